/**
 * The environment a plugin starts with, for the host and for the SDK's test
 * kit alike: a minimal base, the go-plugin handshake variables, and exactly
 * what its config grants. Never the host's
 * whole environment: go-plugin passes os.Environ() to every plugin, which
 * hands every cloud credential the host holds to every plugin.
 */
import { FlotillaPluginEnv, HandshakeEnv, MAGIC_COOKIE } from "./handshake.js";

/** Host variables every plugin gets: enough to find programs, locale and time zone, temp files. */
export const BASE_ENV_KEYS: readonly string[] = [
  "PATH",
  "HOME",
  "LANG",
  "LC_ALL",
  "TZ",
  "TMPDIR",
  "USER",
  "SYSTEMROOT",
];

/** What {@link buildPluginEnvironment} combines. */
export interface PluginEnvironmentInput {
  /** The host's environment (normally process.env); only base keys and `inheritEnv` names are read. */
  hostEnv: Readonly<Record<string, string | undefined>>;
  /** App protocol versions the host accepts. */
  protocolVersions: readonly number[];
  /** Directory for the plugin's Unix socket; unset lets the plugin choose its own, as go-plugin allows. */
  unixSocketDir?: string;
  /** PEM client certificate under AutoMTLS. */
  clientCertPem?: string;
  /** TCP port range, when the plugin may listen on TCP. */
  tcpPortRange?: { min: number; max: number };
  /** Variables granted by the plugin's config. */
  granted?: Readonly<Record<string, string>>;
  /** Host variables granted by name. */
  inheritEnv?: readonly string[];
}

/** Builds the plugin's environment; the handshake variables always win over grants. */
export function buildPluginEnvironment(input: PluginEnvironmentInput): Record<string, string> {
  const env: Record<string, string> = {};
  for (const key of [...BASE_ENV_KEYS, ...(input.inheritEnv ?? [])]) {
    const value = input.hostEnv[key];
    if (value !== undefined) env[key] = value;
  }
  Object.assign(env, input.granted);
  env[MAGIC_COOKIE.key] = MAGIC_COOKIE.value;
  env[HandshakeEnv.protocolVersions] = input.protocolVersions.join(",");
  if (input.unixSocketDir) env[HandshakeEnv.unixSocketDir] = input.unixSocketDir;
  else delete env[HandshakeEnv.unixSocketDir];
  env[FlotillaPluginEnv.stdinLifeline] = "1";
  // go-plugin always sets the port range; 0..0 would be read as a range, so set it only when asked.
  if (input.tcpPortRange) {
    env[HandshakeEnv.minPort] = String(input.tcpPortRange.min);
    env[HandshakeEnv.maxPort] = String(input.tcpPortRange.max);
    env[FlotillaPluginEnv.network] = "tcp";
  } else {
    delete env[FlotillaPluginEnv.network];
    delete env[HandshakeEnv.minPort];
    delete env[HandshakeEnv.maxPort];
  }
  if (input.clientCertPem) env[HandshakeEnv.clientCert] = input.clientCertPem;
  else delete env[HandshakeEnv.clientCert];
  return env;
}

/** Granted values shorter than this are not masked in logs (see {@link secretValues}). */
export const MIN_SECRET_LENGTH = 8;

/** The values in a plugin's environment that must never appear in logs: its grants. */
export function secretValues(input: Pick<PluginEnvironmentInput, "hostEnv" | "granted" | "inheritEnv">): string[] {
  const values = Object.values(input.granted ?? {});
  for (const key of input.inheritEnv ?? []) {
    const value = input.hostEnv[key];
    if (value !== undefined) values.push(value);
  }
  // Short values ("1", "true", "hang", a region) would mask ordinary words in every log line; real
  // credentials are longer than 8 characters.
  return values.filter((v) => v.length >= MIN_SECRET_LENGTH);
}
