/**
 * The conformance suite judged by plugins whose behaviour is known: the SDK's fixture plugin (no runner:
 * the job checks say why they do not apply) and a careless plugin that breaks one rule per check, down
 * to not leaving when its host goes. The
 * suite passing against a real plugin is plugin-local's own test (packages/plugin-local/src/conformance.test.ts).
 * Needs `tsc -b` first (runs the compiled fixtures).
 */
import { describe, expect, it } from "vitest";
import { type ConformanceReport, runConformance } from "./conformance.js";
import { compiledFixture } from "./fixtures/fixture-path.js";

function check(report: ConformanceReport, name: string) {
  const found = report.checks.find((c) => c.name === name);
  if (!found) throw new Error(`no check named ${name}: ${report.checks.map((c) => c.name).join(" | ")}`);
  return found;
}

describe("runConformance", () => {
  it("passes a plugin without a runner, saying why each job check does not apply", async () => {
    const report = await runConformance(process.execPath, [compiledFixture("fixture-plugin")]);
    expect(report.passed, JSON.stringify(report.checks, null, 2)).toBe(true);
    expect(check(report, "prints a go-plugin handshake line").detail).toMatch(/^grpc over unix at .*, AutoMTLS$/);
    expect(check(report, "reports SERVING on the gRPC health service").status).toBe("passed");
    expect(check(report, "lists its optional services in its registry exactly as it serves them").detail).toBe(
      "fixture 9.9.9: RegionLister",
    );
    expect(check(report, "runs a job and answers with its handle")).toMatchObject({
      status: "skipped",
      detail: "the plugin does not advertise IaCProviderRunner",
    });
    expect(check(report, "lists regions sorted, without duplicates").detail).toBe("1 region(s)");
    expect(check(report, "refuses a malformed configuration with INVALID_ARGUMENT").detail).toMatch(
      /^INVALID_ARGUMENT: config_json: not JSON/,
    );
    expect(check(report, "exits when its host closes its stdin (the host's lifeline)").detail).toBe(
      "exited with code 0",
    );
    expect(check(report, "shuts down when its host asks (GRPCController.Shutdown)").detail).toBe("exited with code 0");
    expect(check(report, "exits when its host dies (host killed with SIGKILL)").status).toBe("passed");
  });

  it("fails a careless plugin with one precise reason per broken rule", async () => {
    const report = await runConformance(process.execPath, [compiledFixture("careless-plugin")], {
      job: { command: ["true"] },
      longJob: { command: ["sleep", "600"] },
      // The careless plugin never ends a cancelled job nor exits: wait less for what will not come.
      settleMs: 2_000,
    });
    expect(report.passed).toBe(false);
    const failures = Object.fromEntries(
      report.checks.filter((c) => c.status === "failed").map((c) => [c.name, c.detail]),
    );
    expect(failures).toEqual({
      "refuses a malformed configuration with INVALID_ARGUMENT":
        'Configure accepted config_json that is not JSON ({"conformance": ); refuse it with INVALID_ARGUMENT saying what is wrong',
      "runs a job once for a repeated idempotency key": expect.stringMatching(
        /^a second RunJob with idempotency key conformance-\S+ started job job-2, not job-1: a host retrying a lost response would run the job twice$/,
      ),
      "reports the job's end with its real exit code":
        "a SUCCEEDED job reports exit code absent; report the real exit code, 0",
      "treats cancelling a finished job as no error": "cancelling the finished job changed its state to CANCELLED",
      "answers an unknown job handle with NOT_FOUND on every call":
        "JobStatus of an unknown job answered a status; JobLogs answered 1 line(s); CancelJob answered a status; answer NOT_FOUND, so a host knows the job is gone",
      "answers a batch status call in request order, with per-job errors": expect.stringMatching(
        /^results came back for conformance-no-such-job-\S+, job-1; answer one result per handle, in request order$/,
      ),
      "refuses a bad job spec with INVALID_ARGUMENT naming the field":
        "RunJob with a negative timeout (-1 s) started job job-3; refuse it with INVALID_ARGUMENT naming the timeout field",
      "ends a followed log at the caller's deadline or cancel, and stays healthy":
        "a followed log of the running job ended as complete (status OK) with the caller's deadline set to 1.5 s, after 1 line(s), while the job is still RUNNING; keep a follow open until the job has ended, and end one the caller cut short with DEADLINE_EXCEEDED or CANCELLED, never OK",
      "cancels a running job, which ends CANCELLED and its followed log with it":
        "still RUNNING 2 s after CancelJob (which answered CANCELLED); stop the job and report it CANCELLED",
      "lists regions sorted, without duplicates": "region ids repeat: b, a, b",
      "exits when its host closes its stdin (the host's lifeline)":
        "still running 2 s after its stdin closed, though FLOTILLA_PLUGIN_STDIN_LIFELINE=1 said that stdin EOF means the host is gone; read stdin and exit at its end",
      "shuts down when its host asks (GRPCController.Shutdown)":
        "still running 2 s after GRPCController.Shutdown; stop serving and exit, or a host has to kill it",
      "exits when its host dies (host killed with SIGKILL)":
        "still running 2 s after its host was killed: watch the host (exit at stdin EOF when FLOTILLA_PLUGIN_STDIN_LIFELINE=1, or when the parent process changes), or it is left holding its socket and credentials",
    });
    expect(check(report, "resumes the log from a cursor with no gap or repeat")).toEqual({
      name: "resumes the log from a cursor with no gap or repeat",
      status: "skipped",
      detail: "the lines carry no cursor, so a host cannot resume this plugin's logs",
    });
  });

  it("takes the jobs from the registry when none are given, and says where each came from", async () => {
    const report = await runConformance(process.execPath, [compiledFixture("careless-plugin")], {
      env: { CARELESS_PUBLISH_JOBS: "1" },
      settleMs: 1_000,
    });
    expect(check(report, "runs a job and answers with its handle")).toMatchObject({
      status: "passed",
      detail: "job job-1 (registry's job)",
    });
    expect(check(report, "ends a followed log at the caller's deadline or cancel, and stays healthy").status).toBe(
      "failed",
    );
  });

  it("skips the job checks of a runner without jobs, saying how to give them", async () => {
    const report = await runConformance(process.execPath, [compiledFixture("careless-plugin")], { settleMs: 500 });
    expect(check(report, "runs a job and answers with its handle")).toMatchObject({
      status: "skipped",
      detail: expect.stringMatching(
        /^no job to run: the registry names no conformance_jobs\.quick and none was given \(--job\)/,
      ),
    });
    expect(check(report, "cancels a running job, which ends CANCELLED and its followed log with it")).toMatchObject({
      status: "skipped",
      detail:
        "no long-running job: the registry names no conformance_jobs.long_running and none was given (--long-job)",
    });
  });

  it("reports a plugin that exits before its handshake with the end of its stderr", async () => {
    const report = await runConformance(process.execPath, [
      "-e",
      'console.error("missing config file"); process.exit(3)',
    ]);
    expect(report.checks).toEqual([
      {
        name: "prints a go-plugin handshake line",
        status: "failed",
        detail: "plugin exited with code 3 before its handshake; its stderr ended: missing config file",
      },
    ]);
  });

  it("reports a plugin that never prints a handshake, and stops there", async () => {
    const report = await runConformance(process.execPath, ["-e", "setTimeout(() => {}, 60000)"], { timeoutMs: 2_000 });
    expect(report.passed).toBe(false);
    expect(report.checks).toEqual([
      { name: "prints a go-plugin handshake line", status: "failed", detail: "no handshake line within 2000 ms" },
    ]);
  });
});
