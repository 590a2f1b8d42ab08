/**
 * `npm run bench`: runs the benchmark and prints its ratios.
 * Flags: `--quick` (smoke run, meaningless figures), `--study` (adds the
 * connect-node comparison pairs of docs/transport.md).
 */
import { cpus, loadavg } from "node:os";
import { runBench } from "./bench.js";
import {
  formatCliRoundTripTable,
  formatFloodTable,
  formatHostTrackingTable,
  formatLogLatencyTable,
  formatReadyTable,
  formatStatusCallsTable,
  formatTransportTable,
} from "./report.js";

const known = new Set(["--quick", "--study"]);
const flags = process.argv.slice(2);
const unknown = flags.filter((flag) => !known.has(flag));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown option ${unknown.join(" ")}; known options are ${[...known].join(", ")}\n`);
  process.exit(2);
}

const quick = flags.includes("--quick");
let section = "start-up of the bench";
// If the event loop empties while a section still awaits something (a handle
// that was unref'd, a promise nobody will settle), Node would exit with code
// 13 and a bare "unsettled top-level await"; name the section instead.
const stoppedEarly = () => {
  process.stderr.write(
    `bench: stopped during "${section}": it was waiting for something that holds no handle on the event loop any more (a bug in that section or in the code it measures)\n`,
  );
  process.exit(1);
};
process.once("beforeExit", stoppedEarly);
const loadBefore = loadavg()[0]?.toFixed(2);
const report = await runBench({
  quick,
  study: flags.includes("--study"),
  onSection: (next) => {
    section = next;
    process.stderr.write(`bench: measuring ${next}…\n`);
  },
});
console.log(
  `Flotilla bench · ${report.startedAt} · node ${process.version} · ${cpus().length} CPUs · 1-min load ${loadBefore} before, ${loadavg()[0]?.toFixed(2)} after${quick ? " · QUICK RUN: figures are not meaningful" : ""}`,
);
console.log("");
console.log(
  "Host→plugin unary calls: IaCProviderService/Describe, 64-byte response, Unix socket, server in its own process.",
);
console.log(
  "Ratios are against the raw HTTP/2 floor measured in this same run; goal: host → SDK plugin p50 ≤ 1.5× floor.",
);
console.log(formatTransportTable(report.transport));
for (const failure of report.failedPairs)
  console.log(`NOT MEASURED: ${failure.name}: ${failure.reason.split("\n")[0]}`);
console.log("");
console.log(
  "Plugin start-up (spawn → handshake → health → registry read) and idle memory, against `node -e 0` spawned the same way.",
);
console.log("Goal: ready time ≤ 2.5× bare node.");
console.log(formatReadyTable(report.ready));
console.log("");
console.log(
  "AWS plugin status calls per tracked job (ECS DescribeTasks, counted at the wire-level AWS fake); per poll per job.",
);
console.log(formatStatusCallsTable(report.statusCalls));
console.log("");
console.log(
  `Log line latency: a job writes ${report.logLatencyPlan.linesPerRound} stamped lines ${report.logLatencyPlan.intervalMs} ms apart per round (${report.logLatencyPlan.rounds} timed rounds after ${report.logLatencyPlan.warmupRounds} warm-up, first ${report.logLatencyPlan.warmupLines} lines of each left out);`,
);
console.log(
  "written in the job → received by the caller following jobLogs through the host and the local plugin, against the same child read through a pipe.",
);
console.log(formatLogLatencyTable(report.logLatency));
console.log("");
console.log(
  `Log flood: a job writes ${report.flood.plan.lines} numbered lines of ${report.flood.plan.lineBytes} bytes as fast as it can; the real CLI follows it (flotilla run), then prints its record (flotilla jobs logs).`,
);
console.log("Goal (issue 12): every line, in order; CLI and plugin each under 150 MB peak RSS.");
console.log(formatFloodTable(report.flood));
console.log("");
console.log(
  `The host following ${report.hostTracking.jobs} running jobs of one provider through the job journal (@flotilla/jobs, as flotilla serve does): provider status calls per job per poll interval (1.000 = one call per job), and heap per tracked job.`,
);
console.log(formatHostTrackingTable(report.hostTracking));
console.log("");
console.log(
  "CLI round trip: `flotilla run -- true` (the flotilla bin, the built-in local provider, the job journal) against `node -e 0`, interleaved, after warm-up runs.",
);
console.log("Goal (issue 17): ≤ 10× bare node.");
console.log(formatCliRoundTripTable(report.cliRoundTrip));
process.off("beforeExit", stoppedEarly);
