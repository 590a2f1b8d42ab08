#!/usr/bin/env node
/**
 * The supervisor of one durable local job (config `durable_jobs`): a small
 * process of its own, in its own session, that runs the job and records it
 * (status and log, in the job's record under state_dir) apart from any
 * plugin process. The plugin that started it may stop, crash or be killed
 * with its host; the job runs on, and any later plugin process answers for
 * it from the record: status, a log it can follow as it grows, and cancel
 * (by SIGTERM to this process, the reason in `cancel.json`).
 *
 * It is what a container runtime's shim is to a container: the job's parent,
 * so its exit code is seen, and nothing else. It ends when the job ends. The
 * job does not outlive it: a supervisor that dies (even by SIGKILL) takes the
 * job's process group with it, through the same watchdog the plugin uses.
 *
 * Started by supervised-job.ts as `node job-supervisor.js JOB_ID` (the id in
 * its command line, so a plugin can check a pid is this job's supervisor
 * before it signals it), with the launch as JSON on stdin; prints one line,
 * `started`, once the job's record exists.
 */
import { readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ProcessGroupWatchdog } from "@flotilla/process";
import { JobStore } from "./job-store.js";
import { LocalJob } from "./local-job.js";
import type { SupervisorLaunch } from "./supervised-job.js";

const jobId = process.argv[2] ?? "";
const chunks: Buffer[] = [];
for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
const message = JSON.parse(Buffer.concat(chunks).toString("utf8")) as SupervisorLaunch;
if (message.jobId !== jobId) throw new Error(`job supervisor: started for job ${jobId}, given job ${message.jobId}`);

// Warnings (a record that cannot be written) go to stderr, which the plugin pointed at supervisor.log.
const store = new JobStore(message.stateDir, process.pid, (text) => process.stderr.write(`${text}\n`), true);
const watchdog = new ProcessGroupWatchdog({ graceMs: 1000 });
const job = new LocalJob(jobId, message.launch, {
  logFile: store.createLogFile(jobId),
  maxLogLines: message.maxLogLines,
  killGraceMs: message.killGraceMs,
  observer: { state: (snapshot) => store.writeStatus(jobId, snapshot) },
  watchdog,
});
store.writeStatus(jobId, job.snapshot());

// A cancel from a plugin: SIGTERM, with the reason left in the job's directory.
const cancelFile = join(store.jobDirectory(jobId), "cancel.json");
process.on("SIGTERM", () => {
  let reason = "";
  try {
    reason = String((JSON.parse(readFileSync(cancelFile, "utf8")) as { reason?: unknown }).reason ?? "");
  } catch {
    // Sent without a reason (by hand, or the system shutting down): cancelled all the same.
  }
  job.cancel(reason);
});
// The session has no terminal, but a stray SIGINT or SIGHUP must not end the supervisor without recording the job.
process.on("SIGINT", () => {});
process.on("SIGHUP", () => {});
process.on("exit", () => job.killNow("cancelled: the job's supervisor stopped before the job ended"));

job.start();
process.stdout.write("started\n");
process.stdout.end();
await job.finished;
rmSync(cancelFile, { force: true });
await watchdog.close();
process.exit(0);
