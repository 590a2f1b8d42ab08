/**
 * The go-plugin handshake: the environment a host gives a plugin and the one
 * line a plugin prints on stdout once it listens. Kept byte-compatible with
 * HashiCorp go-plugin so Go hosts can run Flotilla plugins and Flotilla can
 * run Go plugins.
 *
 * Line format: `CORE|APP|NETWORK|ADDRESS|PROTOCOL|SERVER-CERT[|MUX]`; hosts also accept the shorter
 * forms go-plugin's host accepts (see {@link parseHandshake}).
 */

/** go-plugin's core protocol version; every go-plugin release speaks 1. */
export const CORE_PROTOCOL_VERSION = 1;

/** The Flotilla contract version (APP-PROTOCOL-VERSION in the handshake). */
export const APP_PROTOCOL_VERSION = 1;

/**
 * The magic cookie a host sets so a plugin knows it was started by a host.
 * Not a secret: it only stops people from running a plugin by hand by mistake.
 */
export const MAGIC_COOKIE = {
  key: "FLOTILLA_PLUGIN_MAGIC_COOKIE",
  value: "6f1d4c0b-flotilla-provider-plugin",
} as const;

/** Environment variables of the handshake, spelled as go-plugin spells them. */
export const HandshakeEnv = {
  /** Comma-separated app protocol versions the host accepts, e.g. "1,2". */
  protocolVersions: "PLUGIN_PROTOCOL_VERSIONS",
  /** Lowest TCP port a plugin may listen on when it uses TCP. */
  minPort: "PLUGIN_MIN_PORT",
  /** Highest TCP port a plugin may listen on when it uses TCP. */
  maxPort: "PLUGIN_MAX_PORT",
  /** PEM client certificate for AutoMTLS; set means "serve TLS and pin this". */
  clientCert: "PLUGIN_CLIENT_CERT",
  /** Directory the plugin creates its Unix socket in. */
  unixSocketDir: "PLUGIN_UNIX_SOCKET_DIR",
  /** Group that should own the plugin's Unix socket. */
  unixSocketGroup: "PLUGIN_UNIX_SOCKET_GROUP",
  /** Set by hosts that understand the seventh (multiplexing) handshake field. */
  multiplexGrpc: "PLUGIN_MULTIPLEX_GRPC",
} as const;

/**
 * Flotilla's own additions to the handshake environment (go-plugin has no
 * equivalent; a go-plugin host sets neither, and a plugin then behaves as
 * go-plugin's own plugins do).
 */
export const FlotillaPluginEnv = {
  /** "1": stdin is a pipe held by the host; EOF means the host died, so exit. */
  stdinLifeline: "FLOTILLA_PLUGIN_STDIN_LIFELINE",
  /** "tcp" asks a Flotilla plugin to listen on TCP within PLUGIN_MIN_PORT..PLUGIN_MAX_PORT. */
  network: "FLOTILLA_PLUGIN_NETWORK",
} as const;

/** Service name the standard health service reports for a go-plugin plugin. */
export const HEALTH_SERVICE_NAME = "plugin";

/** Longest handshake line a Go host reads (bufio.Scanner's default buffer). */
export const MAX_HANDSHAKE_LINE_BYTES = 64 * 1024;

/** A parsed handshake line. */
export interface Handshake {
  /** Always {@link CORE_PROTOCOL_VERSION}. */
  coreProtocolVersion: number;
  /** The app protocol version the plugin chose. */
  appProtocolVersion: number;
  /** "unix" for a Unix socket path, "tcp" for host:port. */
  network: "unix" | "tcp";
  /** Socket path or host:port. */
  address: string;
  /** Only "grpc" is supported (go-plugin's net/rpc is not). */
  protocol: "grpc";
  /** The server certificate (DER) under AutoMTLS, else undefined. */
  serverCertDer?: Uint8Array;
  /** The seventh field: whether the plugin supports broker multiplexing. */
  multiplexSupported?: boolean;
}

/** The part of a handshake line a {@link HandshakeFormatError} is about. */
export type HandshakeField =
  | "field-count"
  | "core-protocol-version"
  | "app-protocol-version"
  | "network"
  | "address"
  | "protocol"
  | "server-cert"
  | "multiplex";

/** Why a handshake line was rejected; the message quotes what was wrong. */
export class HandshakeFormatError extends Error {
  constructor(
    message: string,
    /** The offending line, truncated for display. */
    readonly line: string,
    /** Which part of the line is wrong, for callers that branch on it. */
    readonly field: HandshakeField,
  ) {
    super(message);
    this.name = "HandshakeFormatError";
  }
}

/** Encodes DER as go-plugin expects: standard base64 without `=` padding. */
export function encodeServerCert(der: Uint8Array): string {
  return Buffer.from(der).toString("base64").replace(/=+$/, "");
}

/** Renders a handshake line, without the trailing newline. */
export function formatHandshake(h: Handshake): string {
  const fields = [
    String(h.coreProtocolVersion),
    String(h.appProtocolVersion),
    h.network,
    h.address,
    h.protocol,
    h.serverCertDer ? encodeServerCert(h.serverCertDer) : "",
  ];
  if (h.multiplexSupported !== undefined) fields.push(String(h.multiplexSupported));
  return fields.join("|");
}

function preview(line: string): string {
  return line.length > 200 ? `${line.slice(0, 200)}…` : line;
}

/**
 * go-plugin's host ignores a certificate field of 50 characters or fewer: older plugins put other data there
 * (go-plugin v1.8 client.go, "Checking if the length is > 50"). A DER certificate is far longer.
 */
const MIN_SERVER_CERT_FIELD_LENGTH = 51;

/** The spellings Go's strconv.ParseBool accepts, which go-plugin's host uses for the multiplexing field. */
const goBooleans: ReadonlyMap<string, boolean> = new Map([
  ...["1", "t", "T", "TRUE", "true", "True"].map((s) => [s, true] as const),
  ...["0", "f", "F", "FALSE", "false", "False"].map((s) => [s, false] as const),
]);

/**
 * Parses a handshake line as a host reads it, accepting what go-plugin's own host accepts: four to seven
 * fields (CORE|APP|NETWORK|ADDRESS[|PROTOCOL[|CERT[|MUX]]]), surrounding whitespace trimmed. Four fields
 * mean go-plugin's net/rpc protocol, which Flotilla does not speak: that, and anything else wrong, throws
 * a {@link HandshakeFormatError} quoting the line and naming the field. Eight or more fields are refused:
 * no go-plugin version prints them, so such a line is not a handshake.
 */
export function parseHandshake(rawLine: string): Handshake {
  const line = rawLine.trim();
  const fail = (field: HandshakeField, why: string): never => {
    throw new HandshakeFormatError(
      `invalid handshake line ${JSON.stringify(preview(line))}: ${why}`,
      preview(line),
      field,
    );
  };
  const fields = line.split("|");
  if (fields.length < 4 || fields.length > 7) {
    fail(
      "field-count",
      `expected 4 to 7 fields separated by "|" (CORE|APP|NETWORK|ADDRESS|PROTOCOL|CERT|MUX), got ${fields.length}`,
    );
  }
  const [core, app, network, address, protocol, cert, mux] = fields as [
    string,
    string,
    string,
    string,
    string | undefined,
    string | undefined,
    string | undefined,
  ];
  if (!/^\d+$/.test(core))
    fail("core-protocol-version", `core protocol version ${JSON.stringify(core)} is not a number`);
  const coreProtocolVersion = Number(core);
  if (coreProtocolVersion !== CORE_PROTOCOL_VERSION) {
    fail(
      "core-protocol-version",
      `core protocol version ${coreProtocolVersion} is not supported (this host speaks ${CORE_PROTOCOL_VERSION})`,
    );
  }
  if (!/^\d+$/.test(app)) fail("app-protocol-version", `app protocol version ${JSON.stringify(app)} is not a number`);
  if (network !== "unix" && network !== "tcp") {
    fail("network", `network ${JSON.stringify(network)} is not "unix" or "tcp"`);
  }
  if (address === "") fail("address", "address is empty");
  if (protocol !== "grpc") {
    const served =
      fields.length === 4 ? "no protocol field, which means go-plugin's net/rpc" : JSON.stringify(protocol);
    fail(
      "protocol",
      `protocol ${served} is not supported; Flotilla speaks only "grpc": serve the plugin with go-plugin's GRPCServer (AllowedProtocols: grpc) and print "grpc" as the fifth field`,
    );
  }
  let serverCertDer: Uint8Array | undefined;
  if (cert !== undefined && cert.length >= MIN_SERVER_CERT_FIELD_LENGTH) {
    if (!/^[A-Za-z0-9+/]+={0,2}$/.test(cert)) fail("server-cert", "server certificate is not base64");
    serverCertDer = new Uint8Array(Buffer.from(cert, "base64"));
  }
  let multiplexSupported: boolean | undefined;
  if (mux !== undefined) {
    multiplexSupported = goBooleans.get(mux);
    if (multiplexSupported === undefined) {
      fail("multiplex", `multiplexing flag ${JSON.stringify(mux)} is not "true" or "false"`);
    }
  }
  const handshake: Handshake = {
    coreProtocolVersion,
    appProtocolVersion: Number(app),
    network: network as "unix" | "tcp",
    address,
    protocol: "grpc",
  };
  if (serverCertDer) handshake.serverCertDer = serverCertDer;
  if (multiplexSupported !== undefined) handshake.multiplexSupported = multiplexSupported;
  return handshake;
}

/**
 * Parses PLUGIN_PROTOCOL_VERSIONS ("1,2") into numbers; empty means the host
 * sent none (a legacy host), which callers treat as "the plugin's default".
 */
export function parseProtocolVersions(value: string | undefined): number[] {
  if (!value) return [];
  return value
    .split(",")
    .map((v) => v.trim())
    .filter((v) => v !== "")
    .map((v) => {
      if (!/^\d+$/.test(v))
        throw new Error(`${HandshakeEnv.protocolVersions} holds ${JSON.stringify(v)}, not a number`);
      return Number(v);
    });
}
