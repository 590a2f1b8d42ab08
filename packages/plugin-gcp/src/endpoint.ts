/**
 * Where the plugin reaches the Google APIs when not at Google's own endpoints:
 * a `HOST:PORT` string from the provider config (a test fake, an emulator, a
 * Private Service Connect endpoint), parsed once so a bad value is refused
 * before any call with a message that says how to fix it.
 */
import { InvalidArgumentError } from "@flotilla/protocol";

/** A gRPC endpoint for the Google API clients. */
export interface GcpEndpoint {
  /** Host name or IP address, e.g. "127.0.0.1" or "run-myendpoint.p.googleapis.com". */
  host: string;
  /** TCP port, e.g. 443. */
  port: number;
  /**
   * Plain-text gRPC without Google credentials: for a local fake or emulator
   * only. The clients then send no token at all.
   */
  insecure: boolean;
}

/** Parses "HOST:PORT" (IPv6 as "[::1]:PORT"); `field` names the config key in the error. */
export function parseGcpEndpoint(value: string, insecure: boolean, field = "endpoint"): GcpEndpoint {
  const match = /^(\[[0-9a-fA-F:]+\]|[A-Za-z0-9.-]+):(\d{1,5})$/.exec(value.trim());
  const port = Number(match?.[2]);
  if (!match || !Number.isInteger(port) || port < 1 || port > 65535)
    throw new InvalidArgumentError(
      // The value is not quoted: a secret pasted into the wrong key must not reach an error or a log.
      `gcp provider config: ${field} (a value of ${value.length} characters) is not HOST:PORT; give it as e.g. "127.0.0.1:8085" or "run.googleapis.com:443", or leave it out to use Google's endpoints`,
    );
  return { host: (match[1] as string).replace(/^\[|\]$/g, ""), port, insecure };
}
