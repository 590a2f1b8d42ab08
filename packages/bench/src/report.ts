/**
 * Turns measurements into the ratios the bench exists to print, and formats
 * them as plain-text tables. Ratios, not absolute figures, are the result:
 * both sides of each ratio were measured in the same run on the same machine.
 */
import type { CliRoundTripMeasurement } from "./cli-round-trip.js";
import type { PairMeasurement } from "./compare.js";
import type { FloodMeasurement } from "./flood.js";
import type { HostTrackingMeasurement } from "./host-tracking.js";
import type { LogLatencyMeasurement } from "./log-latency.js";
import type { ReadyMeasurement } from "./ready-time.js";
import { ratio } from "./stats.js";
import type { StatusCallsMeasurement } from "./status-calls.js";

/** One transport pair with its figures relative to the raw HTTP/2 floor. */
export interface TransportRow {
  /** The pair's own measurement. */
  readonly measurement: PairMeasurement;
  /** p50 latency ÷ floor p50 latency (lower is better; 1 = as fast as raw HTTP/2). */
  readonly p50VsFloor: number;
  /** p99 latency ÷ floor p99 latency. */
  readonly p99VsFloor: number;
  /** Calls/s ÷ floor calls/s at each concurrency (higher is better; 1 = as fast as raw HTTP/2). */
  readonly throughputVsFloor: ReadonlyMap<number, number>;
}

/** Relates every measurement to `floor` (the raw HTTP/2 pair measured in the same run). */
export function transportRows(measurements: readonly PairMeasurement[], floor: PairMeasurement): TransportRow[] {
  return measurements.map((measurement) => ({
    measurement,
    p50VsFloor: ratio(measurement.latency.p50, floor.latency.p50),
    p99VsFloor: ratio(measurement.latency.p99, floor.latency.p99),
    throughputVsFloor: new Map(
      [...measurement.callsPerSecond].map(([concurrency, rate]) => [
        concurrency,
        ratio(rate, floor.callsPerSecond.get(concurrency) ?? Number.NaN),
      ]),
    ),
  }));
}

/** Formats rows of cells as a left-aligned plain-text table with a header rule. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => (row[column] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => cell.padEnd(widths[column] ?? 0))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((width) => "-".repeat(width))), ...rows.map(line)].join("\n");
}

/** A ratio as printed, e.g. `1.42×`. */
export function times(value: number): string {
  return `${value.toFixed(2)}×`;
}

/** The transport table: latency and throughput with each figure's ratio to the floor. */
export function formatTransportTable(rows: readonly TransportRow[]): string {
  const concurrencies = [...(rows[0]?.measurement.callsPerSecond.keys() ?? [])];
  const header = [
    "pair (client → server)",
    "p50 µs",
    "p50 ÷ floor",
    "p99 µs",
    "p99 ÷ floor",
    ...concurrencies.flatMap((c) => [`calls/s @${c}`, `÷ floor @${c}`]),
    "client CPU µs/call",
    "server CPU µs/call",
  ];
  const body = rows.map((row) => {
    const m = row.measurement;
    return [
      m.name,
      m.latency.p50.toFixed(0),
      times(row.p50VsFloor),
      m.latency.p99.toFixed(0),
      times(row.p99VsFloor),
      ...concurrencies.flatMap((c) => [
        (m.callsPerSecond.get(c) ?? Number.NaN).toFixed(0),
        times(row.throughputVsFloor.get(c) ?? Number.NaN),
      ]),
      m.clientCpuMicrosPerCall.toFixed(0),
      m.serverCpuMicrosPerCall.toFixed(0),
    ];
  });
  return formatTable(header, body);
}

/** Ratios of the start-up section; NaN where that kind of start could not be measured. */
export interface ReadyRatios {
  /** Median plugin ready time (AutoMTLS) ÷ median `node -e 0` (goal ≤ 2.5×). */
  readonly readyMtlsVsBareNode: number;
  /** Median plugin ready time without AutoMTLS ÷ median `node -e 0`. */
  readonly readyPlaintextVsBareNode: number;
  /** Idle plugin RSS ÷ idle bare Node RSS. */
  readonly idleRssVsBareNode: number;
}

/** The start-up ratios of `ready`. */
export function readyRatios(ready: ReadyMeasurement): ReadyRatios {
  return {
    readyMtlsVsBareNode: ratio(ready.pluginReadyMtls?.p50 ?? Number.NaN, ready.bareNode.p50),
    readyPlaintextVsBareNode: ratio(ready.pluginReadyPlaintext?.p50 ?? Number.NaN, ready.bareNode.p50),
    idleRssVsBareNode: ratio(ready.pluginIdleRssBytes, ready.bareNodeIdleRssBytes),
  };
}

/** The start-up table, with a NOT MEASURED line per failure. */
export function formatReadyTable(ready: ReadyMeasurement): string {
  const ratios = readyRatios(ready);
  const ms = (value: number | undefined) => (value === undefined ? "n/a" : value.toFixed(1));
  const mib = (bytes: number) => (bytes / 1024 / 1024).toFixed(1);
  const table = formatTable(
    ["measure", "measured", "bare node", "÷ bare node"],
    [
      [
        "ready time, AutoMTLS (p50 ms)",
        ms(ready.pluginReadyMtls?.p50),
        ms(ready.bareNode.p50),
        times(ratios.readyMtlsVsBareNode),
      ],
      [
        "ready time, plaintext (p50 ms)",
        ms(ready.pluginReadyPlaintext?.p50),
        ms(ready.bareNode.p50),
        times(ratios.readyPlaintextVsBareNode),
      ],
      [
        "  of which spawn → handshake line (p50 ms)",
        ms(ready.pluginHandshakePlaintext?.p50),
        ms(ready.bareNode.p50),
        times(ratio(ready.pluginHandshakePlaintext?.p50 ?? Number.NaN, ready.bareNode.p50)),
      ],
      [
        "floor: grpc-js server + handshake line (p50 ms)",
        ms(ready.grpcJsServerFloor.p50),
        ms(ready.bareNode.p50),
        times(ratio(ready.grpcJsServerFloor.p50, ready.bareNode.p50)),
      ],
      [
        "floor: node:http2 server + handshake line (p50 ms)",
        ms(ready.http2ServerFloor.p50),
        ms(ready.bareNode.p50),
        times(ratio(ready.http2ServerFloor.p50, ready.bareNode.p50)),
      ],
      [
        "idle RSS (MiB)",
        mib(ready.pluginIdleRssBytes),
        mib(ready.bareNodeIdleRssBytes),
        times(ratios.idleRssVsBareNode),
      ],
    ],
  );
  return [table, ...ready.failures.map((failure) => `NOT MEASURED: plugin start, ${failure}`)].join("\n");
}

/** The status-calls table: DescribeTasks calls per tracked job; 1.000 would be one call per job (no batching). */
export function formatStatusCallsTable(measurement: StatusCallsMeasurement): string {
  return formatTable(
    ["measure", "DescribeTasks calls", "calls per job (1.000 = unbatched)"],
    [
      [
        `${measurement.polls} background polls of ${measurement.jobs} running jobs`,
        String(measurement.pollDescribeTasksCalls),
        `${measurement.callsPerJobPerPoll.toFixed(3)} per poll`,
      ],
      [
        `JobStatus for all ${measurement.jobs} jobs, cold cache`,
        String(measurement.coldJobStatusDescribeTasksCalls),
        measurement.coldCallsPerJob.toFixed(3),
      ],
    ],
  );
}

/** Ratios of the log-latency section; NaN when the host side could not be measured. */
export interface LogLatencyRatios {
  /** Median line latency through host and local plugin ÷ median through a bare pipe. */
  readonly p50VsPipe: number;
  /** 99th percentile through host and local plugin ÷ 99th percentile through a bare pipe. */
  readonly p99VsPipe: number;
}

/** The log-latency ratios of `measurement`. */
export function logLatencyRatios(measurement: LogLatencyMeasurement): LogLatencyRatios {
  return {
    p50VsPipe: ratio(measurement.viaHost?.p50 ?? Number.NaN, measurement.pipeFloor.p50),
    p99VsPipe: ratio(measurement.viaHost?.p99 ?? Number.NaN, measurement.pipeFloor.p99),
  };
}

/** The log-latency table (ms, with ratios to the pipe floor), with a NOT MEASURED line on failure. */
export function formatLogLatencyTable(measurement: LogLatencyMeasurement): string {
  const ratios = logLatencyRatios(measurement);
  const ms = (micros: number | undefined) => (micros === undefined ? "n/a" : (micros / 1000).toFixed(2));
  const table = formatTable(
    ["path (line written → line shown)", "lines", "p50 ms", "p50 ÷ pipe", "p99 ms", "p99 ÷ pipe"],
    [
      [
        "pipe: parent reads the child's stdout",
        String(measurement.pipeFloor.count),
        ms(measurement.pipeFloor.p50),
        times(1),
        ms(measurement.pipeFloor.p99),
        times(1),
      ],
      [
        "host → local plugin job, jobLogs follow",
        String(measurement.viaHost?.count ?? 0),
        ms(measurement.viaHost?.p50),
        times(ratios.p50VsPipe),
        ms(measurement.viaHost?.p99),
        times(ratios.p99VsPipe),
      ],
    ],
  );
  return measurement.failure === undefined
    ? table
    : `${table}\nNOT MEASURED: host → local plugin job, ${measurement.failure}`;
}

/** The flood table: per CLI invocation, lines delivered (of those written), peak RSS of CLI and plugin, wall time. */
export function formatFloodTable(measurement: FloodMeasurement): string {
  const mib = (bytes: number) => (bytes / (1024 * 1024)).toFixed(0);
  const rows = [measurement.run, ...(measurement.logs ? [measurement.logs] : [])].map((run) => [
    run.what,
    `${run.linesDelivered} of ${measurement.plan.lines}${run.firstGap ? ` (FIRST GAP: ${run.firstGap})` : ""}`,
    String(run.exitCode),
    mib(run.cliPeakRssBytes),
    run.pluginPeakRssBytes === 0 ? "no plugin" : mib(run.pluginPeakRssBytes),
    (run.wallMs / 1000).toFixed(1),
  ]);
  return formatTable(
    ["invocation", "lines delivered, in order", "exit", "CLI peak RSS MiB", "plugin peak RSS MiB", "wall s"],
    rows,
  );
}

/** `flotilla run -- true` against `node -e 0`: medians and their ratio (issue 17, goal ≤ 10×). */
export function formatCliRoundTripTable(measurement: CliRoundTripMeasurement): string {
  const { flotillaRunTrue, bareNode } = measurement;
  return formatTable(
    ["command", "runs", "p50 ms", "p99 ms", "ratio to node -e 0 (p50)"],
    [
      [
        "flotilla run -- true",
        String(flotillaRunTrue.count),
        flotillaRunTrue.p50.toFixed(0),
        flotillaRunTrue.p99.toFixed(0),
        `${(flotillaRunTrue.p50 / bareNode.p50).toFixed(1)}×`,
      ],
      ["node -e 0", String(bareNode.count), bareNode.p50.toFixed(0), bareNode.p99.toFixed(0), "1.0×"],
    ],
  );
}

/** Provider status calls and host heap per tracked job (issue 16). */
export function formatHostTrackingTable(measurement: HostTrackingMeasurement): string {
  return formatTable(
    [
      "jobs followed",
      "intervals",
      "BatchJobStatus calls",
      "JobStatus calls",
      "calls per job per interval",
      "heap per job KiB",
    ],
    [
      [
        String(measurement.jobs),
        String(measurement.polls),
        String(measurement.batchCalls),
        String(measurement.singleCalls),
        measurement.callsPerJobPerPoll.toFixed(3),
        (measurement.heapBytesPerJob / 1024).toFixed(1),
      ],
    ],
  );
}
