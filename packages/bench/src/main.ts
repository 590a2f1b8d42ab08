/**
 * `npm run bench`: runs the benchmark and prints its ratios.
 * Flags: `--quick` (smoke run, meaningless figures), `--study` (adds the
 * connect-node comparison pairs of docs/transport.md).
 */
import { cpus, loadavg } from "node:os";
import { runBench } from "./bench.js";
import { formatTransportTable } from "./report.js";

const known = new Set(["--quick", "--study"]);
const flags = process.argv.slice(2);
const unknown = flags.filter((flag) => !known.has(flag));
if (unknown.length > 0) {
  process.stderr.write(`bench: unknown option ${unknown.join(" ")}; known options are ${[...known].join(", ")}\n`);
  process.exit(2);
}

const report = await runBench({ quick: flags.includes("--quick"), study: flags.includes("--study") });
const load = loadavg().map((value) => value.toFixed(2));
console.log(
  `Flotilla bench ${report.startedAt} · node ${process.version} · ${cpus().length} CPUs · load ${load.join(" ")}${flags.includes("--quick") ? " · QUICK RUN: figures are not meaningful" : ""}`,
);
console.log("");
console.log(
  "Host→plugin unary calls: IaCProviderService/Describe, 64-byte response, Unix socket, server in its own process.",
);
console.log("Ratios are against the raw HTTP/2 floor measured in this same run (p50 goal ≤ 1.5×).");
console.log(formatTransportTable(report.transport));
