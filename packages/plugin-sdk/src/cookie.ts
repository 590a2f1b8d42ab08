/**
 * The magic-cookie check: a plugin run by hand (not by a host) explains
 * itself instead of printing a handshake line nobody reads.
 */
import { MAGIC_COOKIE } from "@flotilla/protocol/wire";

/**
 * The message printed when the cookie is missing or wrong. The cookie value
 * is not a secret, but we still do not echo what was found: it helps nobody.
 */
export function missingCookieMessage(pluginName: string): string {
  return [
    `${pluginName}: this is a Flotilla provider plugin, not a program to run by hand.`,
    `Run it through a Flotilla host, e.g. \`flotilla plugin inspect -- <command>\`.`,
    `(The host sets ${MAGIC_COOKIE.key}; it was missing or wrong in this environment.)`,
  ].join("\n");
}

/** True when the environment carries the host's magic cookie with the expected value. */
export function hasMagicCookie(env: NodeJS.ProcessEnv): boolean {
  return env[MAGIC_COOKIE.key] === MAGIC_COOKIE.value;
}
