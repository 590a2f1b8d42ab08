/**
 * A start-up floor for plugins: the least a grpc-js plugin must do before a
 * host can talk to it. It loads grpc-js, binds an empty server to the Unix
 * socket given as argv[2], prints a handshake-shaped line and exits. The
 * bench times it from spawn to exit against `node -e 0`.
 */
import { Server, ServerCredentials } from "@grpc/grpc-js";

const socketPath = process.argv[2];
if (!socketPath) {
  process.stderr.write("start-floor-grpc-js: pass the Unix socket path to bind as the first argument\n");
  process.exit(2);
}
const server = new Server();
server.bindAsync(`unix:${socketPath}`, ServerCredentials.createInsecure(), (error) => {
  if (error) {
    process.stderr.write(`start-floor-grpc-js: cannot bind ${socketPath}: ${error.message}\n`);
    process.exit(1);
  }
  process.stdout.write(`1|1|unix|${socketPath}|grpc|\n`, () => {
    // Closing removes the socket file; the bench removes its directory anyway.
    server.forceShutdown();
    process.exit(0);
  });
});
