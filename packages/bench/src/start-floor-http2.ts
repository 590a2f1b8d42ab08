/**
 * The same start-up floor as start-floor-grpc-js.ts with Node's built-in
 * HTTP/2 server instead of grpc-js: what a plugin would cost at start if its
 * server library were free to load.
 */
import { createServer } from "node:http2";

const socketPath = process.argv[2];
if (!socketPath) {
  process.stderr.write("start-floor-http2: pass the Unix socket path to listen on as the first argument\n");
  process.exit(2);
}
const server = createServer();
server.listen(socketPath, () => {
  process.stdout.write(`1|1|unix|${socketPath}|grpc|\n`, () => {
    // Closing removes the socket file; the bench removes its directory anyway.
    server.close();
    process.exit(0);
  });
});
