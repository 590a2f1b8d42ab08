/**
 * go-plugin's AutoMTLS, host side: one fresh self-signed client certificate
 * (passed to each plugin as PLUGIN_CLIENT_CERT); the channel that pins the
 * plugin's own certificate is @flotilla/protocol/wire's `pluginChannel`.
 */

import type { CertificatePair } from "@flotilla/protocol/wire";
import { generateCertificate as generateSharedCertificate } from "@flotilla/protocol/wire";

/**
 * A self-signed certificate for the host's side of AutoMTLS: the one
 * generator both sides share, in @flotilla/protocol.
 */
export async function generateCertificate(): Promise<CertificatePair> {
  const { certPem, keyPem } = await generateSharedCertificate();
  return { certPem, keyPem };
}
