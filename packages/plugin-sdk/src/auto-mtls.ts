/**
 * go-plugin's AutoMTLS, plugin side: the host puts its client certificate
 * (PEM) in PLUGIN_CLIENT_CERT; the plugin answers with a fresh self-signed
 * server certificate in the handshake line, serves TLS, and accepts only
 * clients presenting exactly the host's certificate. Both sides pin.
 */
import { X509Certificate } from "node:crypto";
import { generateCertificate, HandshakeEnv } from "@flotilla/protocol/wire";
import { ServerCredentials } from "@grpc/grpc-js";
import { PluginStartupError } from "./startup-error.js";

/** TLS material for the server, or nothing when the host did not ask for TLS. */
export interface ServerTls {
  /** Credentials for grpc-js `bindAsync`. */
  credentials: ServerCredentials;
  /** The server certificate's DER, for the handshake line. */
  serverCertDer: Uint8Array | undefined;
}

/**
 * Reads PLUGIN_CLIENT_CERT and builds the server's TLS credentials, or
 * insecure credentials when it is unset. Node's HTTP/2 server offers ALPN
 * "h2", which grpc-go ≥ 1.67 hosts require.
 */
export async function serverTlsFromEnv(env: NodeJS.ProcessEnv): Promise<ServerTls> {
  const clientCertPem = env[HandshakeEnv.clientCert];
  if (!clientCertPem) return { credentials: ServerCredentials.createInsecure(), serverCertDer: undefined };
  try {
    new X509Certificate(clientCertPem);
  } catch (err) {
    throw new PluginStartupError(
      `${HandshakeEnv.clientCert} is set but is not a PEM certificate (${(err as Error).message}); ` +
        "the host must pass its AutoMTLS client certificate, PEM encoded, or leave the variable unset",
      { cause: err },
    );
  }
  const server = await generateCertificate();
  const credentials = ServerCredentials.createSsl(
    Buffer.from(clientCertPem),
    [{ private_key: Buffer.from(server.keyPem), cert_chain: Buffer.from(server.certPem) }],
    true,
  );
  return { credentials, serverCertDer: server.certDer };
}
