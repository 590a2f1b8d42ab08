import { describe, expect, it } from "vitest";
import { runBench } from "./bench.js";
import { logLatencyRatios, readyRatios } from "./report.js";

// Runs the whole bench with its smoke plan (tiny iteration counts) so it cannot
// rot: every pair must open and every ratio must come out as a finite positive
// number. No timing assertion: the machine is shared, timing targets live in
// the bench's output, not in tests.
describe("runBench --quick", () => {
  it("measures the floor, the real host → SDK plugin pair and the library pairs, start-up and log latency, as finite ratios", async () => {
    const report = await runBench({ quick: true, study: false });

    expect(report.failedPairs).toEqual([]);
    const names = report.transport.map((row) => row.measurement.name);
    expect(names).toEqual([
      "raw-http2 → raw-http2",
      "host → SDK plugin (AutoMTLS)",
      "host → SDK plugin (plaintext)",
      "grpc-js → grpc-js",
      "connect:default → connect",
    ]);
    const floor = report.transport[0];
    expect(floor?.p50VsFloor).toBe(1);
    for (const row of report.transport) {
      const m = row.measurement;
      expect(m.latency.count).toBe(report.plan.latencyRounds * report.plan.latencyCallsPerRound);
      for (const value of [row.p50VsFloor, row.p99VsFloor, m.latency.p50, m.latency.p99, m.clientCpuMicrosPerCall]) {
        expect(Number.isFinite(value) && value > 0, `${m.name}: ${value}`).toBe(true);
      }
      expect(m.serverCpuMicrosPerCall).toBeGreaterThanOrEqual(0);
      expect([...row.throughputVsFloor.keys()]).toEqual([1, 64]);
      for (const value of row.throughputVsFloor.values()) expect(Number.isFinite(value) && value > 0).toBe(true);
    }

    expect(report.ready.failures).toEqual([]);
    const ratios = readyRatios(report.ready);
    for (const value of Object.values(ratios)) expect(Number.isFinite(value) && value > 0).toBe(true);
    // A plugin is a Node process plus libraries: it cannot start faster or use less memory than bare Node.
    expect(ratios.readyPlaintextVsBareNode).toBeGreaterThan(1);
    expect(report.ready.grpcJsServerFloor.p50).toBeGreaterThan(0);
    expect(report.ready.http2ServerFloor.p50).toBeGreaterThan(0);
    expect(report.ready.pluginIdleRssBytes).toBeGreaterThan(report.ready.bareNodeIdleRssBytes);

    const status = report.statusCalls;
    expect(status.jobs).toBeGreaterThan(100);
    expect(Number.isFinite(status.callsPerJobPerPoll) && status.callsPerJobPerPoll > 0).toBe(true);
    // Batched: fewer DescribeTasks calls than jobs, on every poll.
    expect(status.callsPerJobPerPoll).toBeLessThan(1);

    const logs = report.logLatency;
    expect(logs.failure).toBeUndefined();
    const measuredLines =
      report.logLatencyPlan.rounds * (report.logLatencyPlan.linesPerRound - report.logLatencyPlan.warmupLines);
    expect(logs.pipeFloor.count).toBe(measuredLines);
    expect(logs.viaHost?.count).toBe(measuredLines);
    const logRatios = logLatencyRatios(logs);
    for (const value of Object.values(logRatios))
      expect(Number.isFinite(value) && value > 0, `log latency ratio ${value}`).toBe(true);

    // The flood: every line arrives, in order, through both invocations; memory was sampled.
    for (const run of [report.flood.run, report.flood.logs]) {
      expect(run?.exitCode, run?.stderrTail).toBe(0);
      expect(run?.firstGap).toBeUndefined();
      expect(run?.linesDelivered).toBe(report.flood.plan.lines);
      expect(run?.cliPeakRssBytes).toBeGreaterThan(0);
    }
    // `flotilla run` starts the local plugin; `flotilla jobs logs` reads the finished job from the journal.
    expect(report.flood.run.pluginPeakRssBytes).toBeGreaterThan(0);
    expect(report.flood.logs?.pluginPeakRssBytes).toBe(0);
    // The CLI round trip ran `flotilla run -- true` to exit code 0 (a failed run throws) and timed bare node beside it.
    expect(report.cliRoundTrip.flotillaRunTrue.count).toBe(1);
    expect(report.cliRoundTrip.flotillaRunTrue.p50).toBeGreaterThan(report.cliRoundTrip.bareNode.p50);
    // Following many jobs: their statuses came in batches (one call per interval, not one per job), and
    // following them took memory.
    expect(report.hostTracking.singleCalls).toBe(0);
    expect(report.hostTracking.batchCalls).toBeGreaterThan(0);
    expect(report.hostTracking.batchCalls).toBeLessThan(report.hostTracking.jobs);
    expect(report.hostTracking.heapBytesPerJob).toBeGreaterThan(0);
  }, 180_000);
});
