#!/usr/bin/env node
// The main job, end to end, through the real `flotilla` CLI and the real
// local provider plugin (a separate process spoken to over gRPC):
//
//   1. `flotilla plugin inspect`: the plugin is started, its handshake and
//      ContractRegistry (services, schemas) are read, and it is stopped.
//   2. `flotilla run`: the plugin is started again, a job runs that writes
//      to stdout and stderr over about a second and exits with code 3; its
//      lines are streamed as they happen and the CLI exits with the job's
//      own exit code, which this script checks and shows.
//
// Run it with `npm start` (which installs and builds first), or
// `node scripts/bootstrap.mjs demo`. Exits 0 when every step did what it should.
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const cli = join(root, "packages", "cli", "dist", "main.js");
const localPlugin = join(root, "packages", "plugin-local", "dist", "main.js");
const JOB_EXIT_CODE = 3;
// Three stdout and three stderr lines, 0.3 s apart, then a chosen exit code.
const JOB_SCRIPT = `for i in 1 2 3; do echo "stdout line $i of the job"; echo "stderr line $i of the job" >&2; sleep 0.3; done; exit ${JOB_EXIT_CODE}`;

for (const [what, path] of [
  ["the flotilla CLI", cli],
  ["the local provider plugin", localPlugin],
]) {
  if (!existsSync(path)) {
    console.error(`demo: ${what} is not built (${path} is missing); run \`node scripts/bootstrap.mjs build\` first.`);
    process.exit(1);
  }
}

/** Runs the CLI with inherited stdio (so streaming is visible as it happens) and resolves with its exit code. */
function flotilla(args) {
  console.log(`\n$ flotilla ${args.map((a) => (/[\s;$"'>&]/.test(a) ? `'${a}'` : a)).join(" ")}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], { cwd: root, stdio: "inherit" });
    child.on("error", reject);
    child.on("exit", (code, signal) => resolve(signal ? 128 : (code ?? 1)));
  });
}

console.log("== 1. start the local provider plugin and read what it serves");
const inspectCode = await flotilla(["plugin", "inspect", "--", process.execPath, localPlugin]);
if (inspectCode !== 0) {
  console.error(`demo: flotilla plugin inspect failed with exit code ${inspectCode} (see above)`);
  process.exit(1);
}

console.log(`\n== 2. run a job through it: output streams as it happens, the job exits with ${JOB_EXIT_CODE}`);
const started = Date.now();
const runCode = await flotilla(["run", "--name", "demo", "--timeout", "1m", "--", "sh", "-c", JOB_SCRIPT]);
const seconds = ((Date.now() - started) / 1000).toFixed(1);

console.log(
  `\n== result: flotilla run exited with ${runCode}, the job's own exit code (${seconds} s including plugin start and stop)`,
);
if (runCode !== JOB_EXIT_CODE) {
  console.error(`demo: expected exit code ${JOB_EXIT_CODE} from the job, got ${runCode}`);
  process.exit(1);
}
console.log("demo: OK — plugin started, services read, job run, logs streamed, exit code reported.");
