/**
 * The exit checks against stand-in plugins: `node -e` scripts that print a handshake line (no gRPC behind
 * it, so Shutdown never reaches them) and then watch their host, or not. The suite's own test runs the
 * checks against real plugins (conformance.test.ts).
 */
import { describe, expect, it } from "vitest";
import type { ConformanceCheck } from "./conformance.js";
import type { RecordCheck } from "./conformance-check.js";
import { exitChecks } from "./conformance-exit.js";
import { spawnPlugin } from "./spawn-plugin.js";

const handshake = 'process.stdout.write("1|1|unix|/tmp/conformance-exit-test.sock|grpc|\\n");';
/** Leaves at stdin EOF (as the lifeline asks) and when re-parented, as a plugin should. */
const watchful = `${handshake}
process.stdin.on("end", () => process.exit(0)).resume();
const parent = process.ppid;
setInterval(() => { if (process.ppid !== parent) process.exit(0); }, 100);`;
/** Watches nothing and stays. */
const deaf = `${handshake} setInterval(() => {}, 60000);`;

async function run(script: string): Promise<Record<string, ConformanceCheck>> {
  const checks: Record<string, ConformanceCheck> = {};
  const record: RecordCheck = async (name, check) => {
    try {
      checks[name] = { name, status: "passed", detail: await check() };
    } catch (error) {
      checks[name] = { name, status: "failed", detail: (error as Error).message };
    }
    return checks[name]?.status === "passed";
  };
  const start = () => spawnPlugin(process.execPath, ["-e", script]);
  const plugin = await start();
  try {
    await exitChecks(record, {
      plugin,
      startAnother: start,
      command: process.execPath,
      args: ["-e", script],
      env: {},
      tls: undefined,
      settleMs: 1_000,
      startTimeoutMs: 10_000,
    });
  } finally {
    plugin.kill();
  }
  return checks;
}

describe("exitChecks", () => {
  it("passes a plugin that leaves at stdin EOF and when its host is killed", async () => {
    const checks = await run(watchful);
    expect(checks["exits when its host closes its stdin (the host's lifeline)"]).toMatchObject({
      status: "passed",
      detail: "exited with code 0",
    });
    expect(checks["exits when its host dies (host killed with SIGKILL)"]).toMatchObject({
      status: "passed",
      detail: "exited",
    });
    // No GRPCController behind the line: the Shutdown never arrives, and the check says what it saw.
    expect(checks["shuts down when its host asks (GRPCController.Shutdown)"]?.detail).toBe(
      "still running 1 s after GRPCController.Shutdown; stop serving and exit, or a host has to kill it",
    );
  });

  it("fails a plugin that watches nothing, saying what to watch", async () => {
    const checks = await run(deaf);
    expect(checks["exits when its host closes its stdin (the host's lifeline)"]?.detail).toMatch(
      /^still running 1 s after its stdin closed, though FLOTILLA_PLUGIN_STDIN_LIFELINE=1 said/,
    );
    expect(checks["exits when its host dies (host killed with SIGKILL)"]?.detail).toMatch(
      /^still running 1 s after its host was killed: watch the host/,
    );
  });
});
