/**
 * Plugin start-up against Node's own: how long the host takes from spawning
 * the bench plugin to having read its ContractRegistry, against how long
 * `node -e 0` takes from spawn to exit when started the same way (execa, own
 * process group, minimal environment, piped stdio, as the host spawns
 * plugins). Also the plugin's idle resident memory against an idle bare Node.
 */
import { fileURLToPath } from "node:url";
import { execa } from "execa";
import { benchPluginConfig, quietHost } from "./host-pair.js";
import { processRssBytes } from "./proc-stat.js";
import { createSocketDir } from "./socket-dir.js";
import { type LatencySummary, summarize } from "./stats.js";

/** How many starts of each kind, and how long a plugin sits idle before its RSS is read. */
export interface ReadyPlan {
  /** Untimed starts of each kind first (file system cache, V8 code cache). */
  readonly warmupStarts: number;
  /** Timed starts of each kind, interleaved. */
  readonly starts: number;
  /** Idle time before reading RSS, ms: long enough for start-up garbage to be collected. */
  readonly idleMs: number;
}

/** The plan `npm run bench` uses. */
export const fullReadyPlan: ReadyPlan = { warmupStarts: 2, starts: 10, idleMs: 1000 };
/** The `--quick` plan. */
export const quickReadyPlan: ReadyPlan = { warmupStarts: 0, starts: 2, idleMs: 200 };

/** What the start-up section measured; times in milliseconds. */
export interface ReadyMeasurement {
  /** spawn → handshake → health → registry read through PluginHost.start, AutoMTLS on (the host's default); undefined if it failed. */
  readonly pluginReadyMtls: LatencySummary | undefined;
  /** The same with AutoMTLS off: no certificate generation, no TLS handshake; undefined if it failed. */
  readonly pluginReadyPlaintext: LatencySummary | undefined;
  /** Within the plaintext start: spawn → handshake line read, as the host's own StartTimings report it. */
  readonly pluginHandshakePlaintext: LatencySummary | undefined;
  /** Floor: a process that loads grpc-js, binds a server and prints a handshake line; spawn → exit. */
  readonly grpcJsServerFloor: LatencySummary;
  /** Floor: the same with node:http2 instead of grpc-js. */
  readonly http2ServerFloor: LatencySummary;
  /** `node -e 0`, spawn → exit, started as the host starts plugins. */
  readonly bareNode: LatencySummary;
  /** Resident memory of the idle bench plugin (AutoMTLS, else plaintext), bytes (median of the reads). */
  readonly pluginIdleRssBytes: number;
  /** Why a kind of plugin start could not be measured, e.g. `AutoMTLS: <error>`. */
  readonly failures: readonly string[];
  /** Resident memory of an idle `node -e "setInterval(...)"` started the same way, bytes. */
  readonly bareNodeIdleRssBytes: number;
}

// The plugin's environment is minimal (the host builds it); give bare Node the same.
const minimalEnv = (): Record<string, string> => ({ PATH: process.env.PATH ?? "/usr/bin:/bin" });

function spawnLikeAPlugin(args: readonly string[]) {
  return execa(process.execPath, [...args], {
    env: minimalEnv(),
    extendEnv: false,
    detached: true,
    stdin: "pipe",
    stdout: "pipe",
    stderr: "pipe",
    buffer: false,
    reject: false,
    cleanup: false,
  });
}

async function timeSpawnToExit(args: readonly string[]): Promise<number> {
  const start = performance.now();
  const result = await spawnLikeAPlugin(args);
  const elapsed = performance.now() - start;
  if (result.exitCode !== 0) {
    throw new Error(
      `${args.join(" ")} exited with ${result.exitCode ?? result.signal} instead of 0; the timing would be meaningless`,
    );
  }
  return elapsed;
}

function timeBareNode(): Promise<number> {
  return timeSpawnToExit(["-e", "0"]);
}

// Resolved from the package root so it works from src/ (vitest) and dist/.
const floorEntry = (name: string) => fileURLToPath(new URL(`../dist/${name}.js`, import.meta.url));

/** One timed start: the whole PluginHost.start, and the host's own spawn → handshake-line time within it. */
interface StartTiming {
  readonly totalMs: number;
  readonly handshakeMs: number;
}

async function timePluginStart(autoMtls: boolean, idleMs: number, rss: number[] | undefined): Promise<StartTiming> {
  const host = quietHost();
  const start = performance.now();
  await host.start([benchPluginConfig(autoMtls)]);
  const totalMs = performance.now() - start;
  try {
    const current = host.get("bench")?.current;
    const pid = current?.pid;
    if (rss && pid !== undefined) {
      await new Promise((resolve) => setTimeout(resolve, idleMs));
      rss.push(processRssBytes(pid));
    }
    return { totalMs, handshakeMs: current?.timings.handshakeMs ?? Number.NaN };
  } finally {
    await host.stop();
  }
}

async function bareNodeIdleRss(idleMs: number): Promise<number> {
  const child = spawnLikeAPlugin(["-e", "setInterval(() => {}, 1000)"]);
  try {
    await new Promise((resolve) => setTimeout(resolve, idleMs));
    return processRssBytes(child.pid as number);
  } finally {
    child.kill("SIGKILL");
    await child;
  }
}

function median(values: readonly number[]): number {
  return summarize(values).p50;
}

/** Runs the start-up section under `plan`. */
export async function benchReadyTime(plan: ReadyPlan): Promise<ReadyMeasurement> {
  const failures: string[] = [];
  const kinds = [
    { label: "AutoMTLS", autoMtls: true, times: [] as number[], handshakes: [] as number[], failed: false },
    { label: "plaintext", autoMtls: false, times: [] as number[], handshakes: [] as number[], failed: false },
  ];
  const bare: number[] = [];
  const grpcJsFloor: number[] = [];
  const http2Floor: number[] = [];
  const sockets = createSocketDir();
  const pluginRss: number[] = [];
  // A kind that fails once is reported and not tried again, so the rest of the bench still runs.
  const attempt = async (kind: (typeof kinds)[number], idleMs: number, rss: number[] | undefined) => {
    if (kind.failed) return undefined;
    try {
      return await timePluginStart(kind.autoMtls, idleMs, rss);
    } catch (error) {
      kind.failed = true;
      failures.push(`${kind.label}: ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`);
      return undefined;
    }
  };
  try {
    for (let i = 0; i < plan.warmupStarts; i++) {
      await timeBareNode();
      for (const kind of kinds) await attempt(kind, 0, undefined);
    }
    // Interleaved so that machine load moves every kind alike; RSS is read on the first few starts only.
    for (let i = 0; i < plan.starts; i++) {
      bare.push(await timeBareNode());
      grpcJsFloor.push(await timeSpawnToExit([floorEntry("start-floor-grpc-js"), sockets.socketPath(`g${i}`)]));
      http2Floor.push(await timeSpawnToExit([floorEntry("start-floor-http2"), sockets.socketPath(`h${i}`)]));
      for (const kind of kinds) {
        const readRss = i < 3 && (kind.autoMtls || kinds[0]?.failed) ? pluginRss : undefined;
        const timing = await attempt(kind, readRss ? plan.idleMs : 0, readRss);
        if (timing !== undefined) {
          kind.times.push(timing.totalMs);
          kind.handshakes.push(timing.handshakeMs);
        }
      }
    }
  } finally {
    sockets.remove();
  }
  const bareRss: number[] = [];
  for (let i = 0; i < Math.min(3, plan.starts); i++) bareRss.push(await bareNodeIdleRss(plan.idleMs));
  const summaryOf = (kind: (typeof kinds)[number]) => (kind.times.length > 0 ? summarize(kind.times) : undefined);
  return {
    pluginReadyMtls: summaryOf(kinds[0] as (typeof kinds)[number]),
    pluginReadyPlaintext: summaryOf(kinds[1] as (typeof kinds)[number]),
    pluginHandshakePlaintext: kinds[1]?.handshakes.length ? summarize(kinds[1].handshakes) : undefined,
    grpcJsServerFloor: summarize(grpcJsFloor),
    http2ServerFloor: summarize(http2Floor),
    bareNode: summarize(bare),
    pluginIdleRssBytes: pluginRss.length > 0 ? median(pluginRss) : Number.NaN,
    bareNodeIdleRssBytes: median(bareRss),
    failures,
  };
}
