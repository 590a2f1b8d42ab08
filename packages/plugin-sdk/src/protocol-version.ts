/**
 * App protocol version negotiation (PLUGIN_PROTOCOL_VERSIONS), as go-plugin
 * does it: the highest version both sides support wins.
 */
import { APP_PROTOCOL_VERSION, HandshakeEnv, parseProtocolVersions } from "@flotilla/protocol/wire";
import { PluginStartupError } from "./startup-error.js";

/** The app protocol versions this SDK can serve, highest first. */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = [APP_PROTOCOL_VERSION];

/**
 * Picks the version to serve. A host that sends no list (an old go-plugin
 * host) gets our highest version and judges it itself, like go-plugin does.
 * No version in common is a start-up error that lists both sides.
 */
export function negotiateProtocolVersion(
  hostValue: string | undefined,
  supported: readonly number[] = SUPPORTED_PROTOCOL_VERSIONS,
): number {
  let offered: number[];
  try {
    offered = parseProtocolVersions(hostValue);
  } catch (err) {
    throw new PluginStartupError(
      `${(err as Error).message}; the host must send comma-separated integers, e.g. "1" or "1,2"`,
    );
  }
  const ours = [...supported].sort((a, b) => b - a);
  if (offered.length === 0) return ours[0] ?? APP_PROTOCOL_VERSION;
  const common = ours.find((v) => offered.includes(v));
  if (common === undefined) {
    throw new PluginStartupError(
      `no protocol version in common: the host accepts ${HandshakeEnv.protocolVersions}=${offered.join(",")}, ` +
        `this plugin (@flotilla/plugin-sdk) speaks ${ours.join(",")}; upgrade whichever side is older`,
    );
  }
  return common;
}
