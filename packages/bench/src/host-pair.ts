/**
 * The real thing: a plugin built with the SDK, started and called by the
 * host's PluginHost and provider client, so the bench measures what users get.
 */
import { fileURLToPath } from "node:url";
import { type PluginConfig, PluginHost } from "@flotilla/host";
import { profilingArgs } from "./pairs.js";
import type { UnaryPair } from "./unary-pair.js";

/** The compiled bench plugin; resolved from the package root so it works from src/ (vitest) and dist/. */
export const benchPluginEntry = fileURLToPath(new URL("../dist/bench-plugin.js", import.meta.url));

/** How the bench runs its plugin: Node on the compiled entry, AutoMTLS as chosen, Configure skipped (ready = registry read). */
export function benchPluginConfig(autoMtls: boolean): PluginConfig {
  return {
    name: "bench",
    command: process.execPath,
    args: [...profilingArgs(), benchPluginEntry],
    autoMtls,
    skipConfigure: true,
    restart: { enabled: false },
  };
}

/** A host whose plugin log records are dropped, so the bench's output stays a report. */
export function quietHost(): PluginHost {
  return new PluginHost({ logSink: () => {} });
}

/** The report label of the host → SDK plugin pair. */
export function hostPluginPairName(autoMtls: boolean): string {
  return `host → SDK plugin (${autoMtls ? "AutoMTLS" : "plaintext"})`;
}

/**
 * Starts the bench plugin through a PluginHost and calls Describe through
 * `host.provider("bench").provider()`. The host chooses its own socket
 * directory, so the socket path handed in is not used.
 */
export async function openHostPluginPair(autoMtls: boolean): Promise<UnaryPair> {
  const name = hostPluginPairName(autoMtls);
  const host = quietHost();
  await host.start([benchPluginConfig(autoMtls)]);
  try {
    const provider = host.provider("bench").provider();
    const pid = host.get("bench")?.current?.pid;
    if (pid === undefined) throw new Error("bench plugin: the host reports no process id after a successful start");
    return {
      name,
      serverPid: pid,
      call: async () => {
        await provider.describe();
      },
      close: () => host.stop(),
    };
  } catch (error) {
    await host.stop();
    throw error;
  }
}
