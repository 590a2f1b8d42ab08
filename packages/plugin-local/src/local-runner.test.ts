import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create, toBinary } from "@bufbuild/protobuf";
import { handlerContext } from "@flotilla/plugin-sdk/testing";
import {
  BatchJobStatusRequestSchema,
  CancelJobRequestSchema,
  FailedPreconditionError,
  GcpCloudRunTargetSchema,
  InvalidArgumentError,
  type JobHandle,
  JobLogsRequestSchema,
  JobLogsResponseSchema,
  JobSpecSchema,
  JobState,
  JobStatusRequestSchema,
  LocalTargetSchema,
  NotFoundError,
  RunJobRequestSchema,
} from "@flotilla/protocol";
import { processGroupMembers } from "@flotilla/test-support";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { localConfig } from "./config.js";
import { mountSmallFilesystem } from "./fixtures/full-filesystem.js";
import { DEFAULT_MAX_STORED_JOBS, JobStore } from "./job-store.js";
import { LocalRunner } from "./local-runner.js";

const small = mountSmallFilesystem();
afterAll(() => {
  if (!("cannot" in small)) small.remove();
});

const runners: LocalRunner[] = [];
afterEach(async () => {
  for (const runner of runners.splice(0)) await runner.shutdown("test cleanup");
});

function newRunner(environment: NodeJS.ProcessEnv = { PATH: process.env.PATH }) {
  const runner = new LocalRunner({ environment, config: () => ({ ...localConfig.defaults(), kill_grace_ms: 200 }) });
  runners.push(runner);
  return runner;
}

type SpecInit = NonNullable<Parameters<typeof create<typeof RunJobRequestSchema>>[1]>["spec"];
const runJob = (runner: LocalRunner, spec: SpecInit) => runner.runJob(create(RunJobRequestSchema, { spec }));
const shell = (script: string, extra: { idempotencyKey?: string; timeout?: { seconds: bigint; nanos: number } } = {}) =>
  create(JobSpecSchema, {
    command: [script],
    target: { kind: { case: "local", value: create(LocalTargetSchema, { shell: true }) } },
    ...extra,
  });
const ctx = () => ({ signal: new AbortController().signal });

async function readLogs(runner: LocalRunner, handle: JobHandle, follow: boolean, cursor = "") {
  const lines = [];
  for await (const response of runner.jobLogs(create(JobLogsRequestSchema, { handle, follow, cursor }), ctx())) {
    lines.push(...(response.lines ?? []));
  }
  return lines;
}

async function finalStatus(runner: LocalRunner, handle: JobHandle) {
  await runner.job(handle.jobId)?.finished;
  return runner.jobStatus(create(JobStatusRequestSchema, { handle })).status;
}

describe("LocalRunner", () => {
  it("runs command + args directly, with env and resolved secrets, and reports the exit code", async () => {
    const runner = newRunner({ PATH: process.env.PATH, GRANTED_TOKEN: "tok-123" });
    const { handle, deduplicated } = await runJob(runner, {
      command: ["/bin/sh", "-c"],
      args: ['echo "$PLAIN $SECRET"; exit 3'],
      env: { PLAIN: "plain" },
      secretEnv: { SECRET: "secret://env/GRANTED_TOKEN" },
    });
    expect(deduplicated).toBe(false);
    expect(handle.provider).toBe("local");
    const status = await finalStatus(runner, handle);
    expect(status).toMatchObject({ state: JobState.FAILED, exitCode: 3 });
    expect((await readLogs(runner, handle, false)).map((l) => l.text)).toEqual(["plain tok-123"]);
  });

  it("refuses a bad variable name, a negative timeout, too many handles and a bad cursor, naming each", async () => {
    const runner = newRunner();
    await expect(runJob(runner, { command: ["true"], env: { "A=B": "x" } })).rejects.toThrow(
      /^spec\.env: "A=B" is not a valid variable name/,
    );
    await expect(runJob(runner, { command: ["true"], env: { "": "x" } })).rejects.toThrow(/^spec\.env: "" is not/);
    await expect(runJob(runner, { command: ["true"], timeout: { seconds: -1n, nanos: 0 } })).rejects.toThrow(
      /^spec\.timeout: negative \(-1000 ms\)/,
    );
    expect(() =>
      runner.batchJobStatus(
        create(BatchJobStatusRequestSchema, { handles: Array.from({ length: 1001 }, () => ({ jobId: "j" })) }),
      ),
    ).toThrow(/^handles: 1001 handles asked for, at most 1000 per call/);
    expect(() =>
      runner.batchJobStatus(
        create(BatchJobStatusRequestSchema, { handles: Array.from({ length: 1000 }, () => ({ jobId: "j" })) }),
      ),
    ).not.toThrow();
    const { handle } = await runJob(runner, shell("echo one"));
    await finalStatus(runner, handle);
    await expect(readLogs(runner, handle, false, "not-a-line-count")).rejects.toThrow(/^cursor: /);
  });

  it("starts a job without the plugin's own environment when inherit_env is false", async () => {
    const runner = new LocalRunner({
      environment: { PATH: process.env.PATH, ONLY_IN_THE_PLUGIN: "from-the-plugin" },
      config: () => ({ ...localConfig.defaults(), inherit_env: false }),
    });
    runners.push(runner);
    const { handle } = await runJob(runner, {
      // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
      command: ["/bin/sh", "-c", 'echo "${ONLY_IN_THE_PLUGIN:-none} $OWN"'],
      env: { OWN: "own" },
    });
    await finalStatus(runner, handle);
    expect((await readLogs(runner, handle, false)).map((l) => l.text)).toEqual(["none own"]);
  });

  it("does not pass the plugin handshake variables to jobs, and passes every other variable", async () => {
    const runner = newRunner({
      PATH: process.env.PATH,
      PLUGIN_PROTOCOL_VERSIONS: "1",
      FLOTILLA_PLUGIN_MAGIC_COOKIE: "cookie",
      KEEP: "k",
      MY_PLUGIN_DIR: "mine",
      FLOTILLA_PLUGIN_MAGIC_COOKIE_NOTE: "not the cookie",
    });
    const { handle } = await runJob(
      runner,
      shell(
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter expansion, not a template
        'echo "${PLUGIN_PROTOCOL_VERSIONS:-none} ${FLOTILLA_PLUGIN_MAGIC_COOKIE:-none} $KEEP $MY_PLUGIN_DIR $FLOTILLA_PLUGIN_MAGIC_COOKIE_NOTE"',
      ),
    );
    await finalStatus(runner, handle);
    expect((await readLogs(runner, handle, false)).map((l) => l.text)).toEqual(["none none k mine not the cookie"]);
  });

  it("runs a job in its working_dir, else in the configured one", async () => {
    const configured = mkdtempSync(join(tmpdir(), "flotilla-wd-"));
    const own = mkdtempSync(join(tmpdir(), "flotilla-wd-"));
    try {
      const runner = new LocalRunner({
        environment: { PATH: process.env.PATH },
        config: () => ({ ...localConfig.defaults(), working_dir: configured }),
      });
      runners.push(runner);
      const inConfigured = await runJob(runner, shell("pwd"));
      const inOwn = await runJob(runner, { ...shell("pwd"), workingDir: own });
      for (const [handle, dir] of [
        [inConfigured.handle, configured],
        [inOwn.handle, own],
      ] as const) {
        await finalStatus(runner, handle);
        expect((await readLogs(runner, handle, false)).map((l) => l.text)).toEqual([dir]);
      }
    } finally {
      rmSync(configured, { recursive: true, force: true });
      rmSync(own, { recursive: true, force: true });
    }
  });

  it("gives a job a secret under the name it asked for, not its source variable too, unless the job sets that itself", async () => {
    const value = "hx-secret-value-1234";
    const runner = newRunner({ PATH: process.env.PATH, HX_SECRET: value, OTHER: "kept" });
    // Every variable but DB_PASS, and DB_PASS's length: the value may appear nowhere else.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter length, not a template
    const printEnv = { command: ["/bin/sh", "-c", 'env | grep -v "^DB_PASS="; echo "db=${#DB_PASS}"'] };
    const { handle } = await runJob(runner, { ...printEnv, secretEnv: { DB_PASS: "secret://env/HX_SECRET" } });
    await finalStatus(runner, handle);
    const printed = (await readLogs(runner, handle, false)).map((l) => l.text);
    expect(printed).toContain(`db=${value.length}`);
    expect(printed).toContain("OTHER=kept");
    expect(printed.join("\n")).not.toContain(value);
    // Asked for by name in the job's env, it is there.
    const asked = await runJob(runner, {
      ...printEnv,
      env: { HX_SECRET: "set-by-the-job" },
      secretEnv: { DB_PASS: "secret://env/HX_SECRET" },
    });
    await finalStatus(runner, asked.handle);
    expect((await readLogs(runner, asked.handle, false)).map((l) => l.text)).toContain("HX_SECRET=set-by-the-job");
  });

  it("follows a running job's log and resumes from a cursor", async () => {
    const runner = newRunner();
    const { handle } = await runJob(runner, shell("echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three"));
    const all = await readLogs(runner, handle, true);
    expect(all.map((l) => l.text)).toEqual(["one", "two", "three"]);
    const rest = await readLogs(runner, handle, false, all[0]?.cursor);
    expect(rest.map((l) => l.text)).toEqual(["two", "three"]);
    await expect(readLogs(runner, handle, false, "99")).rejects.toThrow(InvalidArgumentError);
  });

  it("deduplicates RunJob calls with the same idempotency key, even concurrent ones", async () => {
    const runner = newRunner();
    const spec = shell("echo once", { idempotencyKey: "deploy-42" });
    const [a, b] = await Promise.all([runJob(runner, spec), runJob(runner, spec)]);
    const c = await runJob(runner, spec);
    expect(b.handle.jobId).toBe(a.handle.jobId);
    expect(c.handle.jobId).toBe(a.handle.jobId);
    expect([a.deduplicated, b.deduplicated, c.deduplicated].filter(Boolean)).toHaveLength(2);
    const other = await runJob(runner, shell("echo other", { idempotencyKey: "deploy-43" }));
    expect(other.handle.jobId).not.toBe(a.handle.jobId);
  });

  // A refused RunJob with a key once left a rejected promise nobody awaited, and Node ended the plugin for it.
  it("refuses a RunJob with a key it cannot start, and starts it on a retry once it can", async () => {
    const environment: NodeJS.ProcessEnv = { PATH: process.env.PATH };
    const runner = newRunner(environment);
    const spec = create(JobSpecSchema, {
      ...shell("echo $TOKEN", { idempotencyKey: "needs-token" }),
      secretEnv: { TOKEN: "secret://env/LATE_TOKEN" },
    });
    await expect(runJob(runner, spec)).rejects.toThrow(NotFoundError);
    environment.LATE_TOKEN = "now-set";
    const { deduplicated, handle } = await runJob(runner, spec);
    expect(deduplicated).toBe(false);
    expect((await readLogs(runner, handle, true)).map((l) => l.text)).toEqual(["now-set"]);
  });

  it("times out with FAILED and a reason naming the timeout", async () => {
    const runner = newRunner();
    const { handle } = await runJob(runner, shell("sleep 30", { timeout: { seconds: 0n, nanos: 300_000_000 } }));
    const status = await finalStatus(runner, handle);
    expect(status?.state).toBe(JobState.FAILED);
    expect(status?.reason).toMatch(/timed out.*300ms/);
  });

  it("honours a timeout past Node's 24.8-day timer limit instead of firing it at once", async () => {
    const runner = newRunner();
    const hours597 = { seconds: BigInt(597 * 3600), nanos: 0 };
    const { handle } = await runJob(runner, shell("sleep 0.5; echo finished", { timeout: hours597 }));
    const status = await finalStatus(runner, handle);
    expect(status?.reason ?? "").not.toMatch(/timed out/);
    expect(status?.state).toBe(JobState.SUCCEEDED);
  });

  it("cancels a running job and treats cancelling a finished job as no error", async () => {
    const runner = newRunner();
    const { handle } = await runJob(runner, shell("echo started; sleep 30"));
    await runner.job(handle.jobId)?.log.waitForMore("");
    runner.cancelJob(create(CancelJobRequestSchema, { handle, reason: "operator" }));
    const status = await finalStatus(runner, handle);
    expect(status).toMatchObject({ state: JobState.CANCELLED, reason: "cancelled: operator" });
    const again = runner.cancelJob(create(CancelJobRequestSchema, { handle }));
    expect(again.status).toMatchObject({ state: JobState.CANCELLED });
  });

  it("cancel stops the job's whole process group, a background grandchild included", async () => {
    const runner = newRunner();
    const { handle } = await runJob(runner, shell("sleep 1000 & echo started; wait"));
    const job = runner.job(handle.jobId);
    await job?.log.waitForMore("");
    const group = job?.pid as number;
    // The shell and its background sleep.
    expect(processGroupMembers(group)).toHaveLength(2);
    try {
      runner.cancelJob(create(CancelJobRequestSchema, { handle, reason: "operator" }));
      // Polled before waiting for the job to finish: a sleep left running would keep the job's output,
      // and so the job, open until the test timed out.
      await expect.poll(() => processGroupMembers(group), { timeout: 10_000 }).toEqual([]);
    } finally {
      // Should the assertion fail, the sleep must not outlive the test and hold up the cleanup.
      for (const pid of processGroupMembers(group)) process.kill(pid, "SIGKILL");
    }
    expect(await finalStatus(runner, handle)).toMatchObject({
      state: JobState.CANCELLED,
      reason: "cancelled: operator",
    });
  });

  it("answers batch status per handle, with errors for unknown jobs", async () => {
    const runner = newRunner();
    const { handle } = await runJob(runner, shell("exit 0"));
    await finalStatus(runner, handle);
    const unknown = { provider: "local", jobId: "nope" };
    const { results } = runner.batchJobStatus(create(BatchJobStatusRequestSchema, { handles: [handle, unknown] }));
    expect(results?.[0]?.result).toMatchObject({ case: "status", value: { state: JobState.SUCCEEDED, exitCode: 0 } });
    expect(results?.[1]?.result).toMatchObject({ case: "error", value: { code: "NOT_FOUND" } });
  });

  it("rejects bad specs and handles with errors naming the field", async () => {
    const runner = newRunner();
    await expect(runJob(runner, {})).rejects.toThrow(/spec\.command: empty/);
    await expect(
      runJob(runner, {
        command: ["true"],
        target: { kind: { case: "gcpCloudRun", value: create(GcpCloudRunTargetSchema) } },
      }),
    ).rejects.toThrow(
      /JobSpec\.target: the local plugin runs jobs with target\.local or no target, got target\.gcp_cloud_run/,
    );
    await expect(runJob(runner, { command: ["true"], secretEnv: { S: "plain-value" } })).rejects.toThrow(
      /spec\.secret_env\.S/,
    );
    await expect(runJob(runner, { command: [""] })).rejects.toThrow(/spec\.command: empty/);
    await expect(runner.runJob(create(RunJobRequestSchema, {}))).rejects.toThrow(
      /^spec is missing; RunJob needs a JobSpec with at least a command/,
    );
    const status = (handle: Partial<JobHandle>) => () =>
      runner.jobStatus(create(JobStatusRequestSchema, { handle: handle as JobHandle }));
    expect(status({ provider: "local", jobId: "missing" })).toThrow(NotFoundError);
    expect(status({ provider: "local", jobId: "missing" })).toThrow(
      /^job missing is not known to this local provider; without a state_dir, local jobs live only as long as the plugin process that ran them/,
    );
    expect(status({ provider: "aws", jobId: "x" })).toThrow(FailedPreconditionError);
    expect(status({ provider: "aws", jobId: "x" })).toThrow(/^handle: job x belongs to provider "aws", not "local"/);
    expect(status({ provider: "local", jobId: "" })).toThrow(InvalidArgumentError);
    expect(status({ provider: "local", jobId: "" })).toThrow(/^handle: missing or without a job_id/);
    // A handle that names no provider is this plugin's.
    const { handle } = await runJob(runner, shell("exit 0"));
    await finalStatus(runner, handle);
    expect(status({ provider: "", jobId: handle.jobId })().status?.state).toBe(JobState.SUCCEEDED);
  });

  it("reading a finished job's log from its last cursor returns no lines", async () => {
    const runner = newRunner();
    const { handle } = await runJob(runner, shell("echo only"));
    await finalStatus(runner, handle);
    const [line] = await readLogs(runner, handle, false);
    expect(await readLogs(runner, handle, false, line?.cursor)).toEqual([]);
    expect(await readLogs(runner, handle, true, line?.cursor)).toEqual([]);
  });

  it("without a state_dir, a job's log spools to a file already unlinked: nothing is left in the temp dir", async () => {
    const runner = newRunner();
    const { handle } = await runJob(runner, shell("echo spooled"));
    await finalStatus(runner, handle);
    expect((await readLogs(runner, handle, false)).map((l) => l.text)).toEqual(["spooled"]);
    expect(existsSync(join(tmpdir(), `flotilla-local-log-${handle.jobId}`))).toBe(false);
  });

  it("registers each job's process group with the watchdog, and forgets it once the job is over", async () => {
    const registered: number[] = [];
    const forgotten: number[] = [];
    const runner = new LocalRunner({
      environment: { PATH: process.env.PATH },
      config: () => localConfig.defaults(),
      watchdog: { register: (pgid) => registered.push(pgid), forget: (pgid) => forgotten.push(pgid) },
    });
    runners.push(runner);
    const { handle } = await runJob(runner, shell("exit 0"));
    await finalStatus(runner, handle);
    const pid = runner.job(handle.jobId)?.pid;
    expect(registered).toEqual([pid]);
    expect(forgotten).toEqual([pid]);
  });

  it("warns through the logger of the calls when none was given, else through the one given", async () => {
    // A state_dir that cannot be made (under a file): writing the first job record warns.
    const notADirectory = join(mkdtempSync(join(tmpdir(), "flotilla-state-")), "a-file");
    writeFileSync(notADirectory, "");
    const config = () => ({ ...localConfig.defaults(), state_dir: join(notADirectory, "state") });
    const methods = ["runJob", "jobStatus", "batchJobStatus", "jobLogs", "cancelJob"] as const;
    for (const method of methods) {
      const warnings: string[] = [];
      const runner = new LocalRunner({ environment: { PATH: process.env.PATH }, config });
      runners.push(runner);
      const context = handlerContext({ logger: { debug() {}, info() {}, warn: (m) => warnings.push(m), error() {} } });
      // Any call hands the runner the plugin's logger; the warning comes later, from a job's record.
      const service = runner.service() as unknown as Record<
        (typeof methods)[number],
        (request: unknown, context: unknown) => unknown
      >;
      try {
        await service[method](create(RunJobRequestSchema, {}), context);
      } catch {
        // Each refuses an empty request; the logger was handed over first.
      }
      await runJob(runner, shell("exit 0"));
      expect(warnings, method).toEqual([expect.stringMatching(/cannot write job records in state_dir .*ENOTDIR/)]);
    }
    const given: string[] = [];
    const runner = new LocalRunner({
      environment: { PATH: process.env.PATH },
      config,
      logger: { warn: (m) => given.push(m) },
    });
    runners.push(runner);
    const ignored: string[] = [];
    await runner
      .service()
      .runJob(
        create(RunJobRequestSchema, { spec: shell("exit 0") }),
        handlerContext({ logger: { debug() {}, info() {}, warn: (m) => ignored.push(m), error() {} } }),
      );
    expect(given).toHaveLength(1);
    expect(ignored).toEqual([]);
  });

  it("shutdown stops every running job, saying why", async () => {
    const runner = newRunner();
    const { handle } = await runJob(runner, shell("sleep 30"));
    await runner.shutdown();
    expect(runner.job(handle.jobId)?.snapshot()).toMatchObject({
      state: JobState.CANCELLED,
      reason: "cancelled: the local provider plugin is shutting down",
    });
  });

  it("killAllNow SIGKILLs every running job at once and records it as cancelled, saying why", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "flotilla-state-"));
    try {
      const runner = new LocalRunner({
        environment: { PATH: process.env.PATH },
        // A grace period far longer than the test: only a SIGKILL ends the job in time.
        config: () => ({ ...localConfig.defaults(), state_dir: stateDir, kill_grace_ms: 600_000 }),
      });
      runners.push(runner);
      const { handle } = await runJob(runner, shell("trap '' TERM; sleep 60 & wait"));
      runner.killAllNow();
      expect(new JobStore(stateDir).load(handle.jobId)?.status).toMatchObject({
        state: JobState.CANCELLED,
        reason: "cancelled: the local provider plugin stopped before the job ended",
      });
      await runner.job(handle.jobId)?.finished;
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("with a state_dir, prunes the oldest records beyond the kept number when it first uses it", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "flotilla-state-"));
    try {
      const earlier = new JobStore(stateDir, 4242);
      const at = new Date();
      for (let n = 0; n < DEFAULT_MAX_STORED_JOBS + 2; n++) {
        earlier.writeStatus(`00000000-0000-4000-8000-${String(n).padStart(12, "0")}`, {
          state: JobState.SUCCEEDED,
          exitCode: 0,
          reason: "",
          createdAt: at,
          startedAt: at,
          finishedAt: at,
        });
      }
      const runner = new LocalRunner({ config: () => ({ ...localConfig.defaults(), state_dir: stateDir }) });
      expect(() =>
        runner.jobStatus(create(JobStatusRequestSchema, { handle: { provider: "local", jobId: "unknown" } })),
      ).toThrow(NotFoundError);
      expect(readdirSync(stateDir)).toHaveLength(DEFAULT_MAX_STORED_JOBS);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("with a state_dir, a later runner (a later plugin process) answers for jobs an earlier one ran", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "flotilla-state-"));
    try {
      const config = () => ({ ...localConfig.defaults(), state_dir: stateDir });
      const first = new LocalRunner({ environment: { PATH: process.env.PATH }, config });
      runners.push(first);
      const { handle } = await first.runJob(create(RunJobRequestSchema, { spec: shell("echo recorded; exit 4") }));
      await first.job(handle.jobId)?.finished;
      const later = new LocalRunner({ environment: {}, config });
      runners.push(later);
      const status = later.jobStatus(create(JobStatusRequestSchema, { handle })).status;
      expect(status).toMatchObject({ state: JobState.FAILED, exitCode: 4 });
      expect((await readLogs(later, handle, true)).map((l) => l.text)).toEqual(["recorded"]);
      expect(() =>
        later.jobStatus(create(JobStatusRequestSchema, { handle: { provider: "local", jobId: "missing" } })),
      ).toThrow(/neither running here nor recorded in/);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it.skipIf("cannot" in small)(
    `with a state_dir on a full disk, jobs run to their end, are answered from memory, and one warning says why${"cannot" in small ? ` (skipped: ${small.cannot})` : ""}`,
    async () => {
      if ("cannot" in small) return;
      // A real ENOSPC from the kernel (a filled tmpfs), not a mocked fs: see fixtures/full-filesystem.ts.
      small.fill();
      const warnings: string[] = [];
      const runner = new LocalRunner({
        environment: { PATH: process.env.PATH },
        config: () => ({ ...localConfig.defaults(), state_dir: join(small.dir, "state") }),
        logger: { warn: (message) => warnings.push(message) },
      });
      runners.push(runner);
      // 20,000 lines (over 100 KiB): batches are written from the job's output, not only from a timer.
      const first = await runJob(runner, shell("seq 1 20000"));
      expect(await finalStatus(runner, first.handle)).toMatchObject({ state: JobState.SUCCEEDED, exitCode: 0 });
      const second = await runJob(runner, shell("echo still running jobs; exit 4"));
      expect(await finalStatus(runner, second.handle)).toMatchObject({ state: JobState.FAILED, exitCode: 4 });
      const lines = (await readLogs(runner, first.handle, false)).map((l) => l.text);
      expect(lines).toHaveLength(20000);
      expect(lines.at(-1)).toBe("20000");
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/state_dir .*\/state \(ENOSPC: .*free space on that filesystem, or set state_dir/);
    },
  );

  it("a follower slower than a flood gets every line in order; a later runner reads the whole record back", async () => {
    const stateDir = mkdtempSync(join(tmpdir(), "flotilla-state-"));
    try {
      // A memory window of 1000 lines: the follower falls far behind it and must read from disk.
      const config = () => ({ ...localConfig.defaults(), state_dir: stateDir, max_log_lines: 1000 });
      const runner = new LocalRunner({ environment: { PATH: process.env.PATH }, config });
      runners.push(runner);
      const { handle } = await runJob(runner, shell("seq 1 200000"));
      let expected = 1;
      let outOfOrder = "";
      for await (const response of runner.jobLogs(create(JobLogsRequestSchema, { handle, follow: true }), ctx())) {
        for (const line of response.lines ?? []) {
          if (line.text !== String(expected) && !outOfOrder) outOfOrder = `line ${expected} was ${line.text}`;
          expected += 1;
        }
        // Slower than the job: let it write on between responses.
        await new Promise((resolve) => setTimeout(resolve, 1));
      }
      expect(outOfOrder).toBe("");
      expect(expected - 1).toBe(200_000);
      // A later plugin process streams the record from disk, all of it, from any cursor.
      const later = new LocalRunner({ environment: { PATH: process.env.PATH }, config });
      const tail = await readLogs(later, handle as JobHandle, false, "199990");
      expect(tail.map((l) => l.text)).toEqual(Array.from({ length: 10 }, (_, i) => String(199_991 + i)));
      let count = 0;
      for await (const response of later.jobLogs(create(JobLogsRequestSchema, { handle }), ctx()))
        count += response.lines?.length ?? 0;
      expect(count).toBe(200_000);
    } finally {
      rmSync(stateDir, { recursive: true, force: true });
    }
  });

  it("changes the job's bytes exactly as the contract's LogLine comment says, and nothing else", async () => {
    const runner = newRunner();
    // CRLF, a lone CR, invalid UTF-8 (0xFF, a cut 3-byte sequence), a valid 4-byte character, no final newline.
    const { handle } = await runJob(
      runner,
      shell("printf 'crlf\\r\\nlone\\rcr\\n\\377x\\342\\202y\\n\\360\\237\\232\\200\\nlast'"),
    );
    await runner.job(handle?.jobId ?? "")?.finished;
    const lines = await readLogs(runner, handle as JobHandle, false);
    expect(lines.map((l) => l.text)).toEqual(["crlf", "lone\rcr", "\uFFFDx\uFFFDy", "\u{1F680}", "last"]);
    expect(lines.every((l) => !l.continues)).toBe(true);
  });

  it("delivers a 2 MB line without a newline in flagged pieces, each response bounded by bytes", async () => {
    const runner = newRunner();
    const size = 2_000_000;
    const { handle } = await runJob(runner, shell(`head -c ${size} /dev/zero | tr '\\0' a; echo; echo after`));
    const responses = [];
    for await (const response of runner.jobLogs(create(JobLogsRequestSchema, { handle, follow: true }), ctx()))
      responses.push(create(JobLogsResponseSchema, response));
    for (const response of responses) expect(toBinary(JobLogsResponseSchema, response).length).toBeLessThan(80 * 1024);
    const lines = responses.flatMap((r) => r.lines);
    const pieces = lines.slice(0, -1);
    expect(pieces.slice(0, -1).every((l) => l.continues)).toBe(true);
    expect(pieces.at(-1)?.continues).toBe(false);
    expect(pieces.map((l) => l.text).join("")).toBe("a".repeat(size));
    expect(lines.at(-1)).toMatchObject({ text: "after", continues: false });
  });

  it("with shell, the first word is the script and the others its arguments, each kept whole, $0 being sh", async () => {
    const runner = newRunner();
    const { handle } = await runJob(
      runner,
      create(JobSpecSchema, {
        command: ['printf "[%s]\\n" "$0" "$@"', "a b"],
        args: ["it's", 'say "hi"'],
        target: { kind: { case: "local", value: create(LocalTargetSchema, { shell: true }) } },
      }),
    );
    expect(await finalStatus(runner, handle)).toMatchObject({ state: JobState.SUCCEEDED });
    expect((await readLogs(runner, handle, true)).map((l) => l.text)).toEqual([
      "[sh]",
      "[a b]",
      "[it's]",
      '[say "hi"]',
    ]);
  });

  it("keeps at most maxFinishedJobs finished jobs in memory, forgetting the oldest, never a running one", async () => {
    const runner = new LocalRunner({
      environment: { PATH: process.env.PATH },
      config: () => ({ ...localConfig.defaults(), kill_grace_ms: 200 }),
      maxFinishedJobs: 2,
    });
    runners.push(runner);
    const running = await runJob(runner, shell("sleep 30"));
    const finished: JobHandle[] = [];
    for (let n = 0; n < 4; n++) {
      const { handle } = await runJob(runner, shell(`echo ${n}`, { idempotencyKey: `key-${n}` }));
      await runner.job(handle.jobId)?.finished;
      // Eviction runs in a callback of `finished`; let it.
      await new Promise((r) => setImmediate(r));
      finished.push(handle);
    }
    expect(runner.jobCount).toBe(3);
    expect(runner.job(running.handle.jobId)?.snapshot().state).toBe(JobState.RUNNING);
    for (const evicted of finished.slice(0, 2)) {
      expect(() => runner.jobStatus(create(JobStatusRequestSchema, { handle: evicted }))).toThrow(NotFoundError);
    }
    for (const kept of finished.slice(2)) {
      expect(runner.jobStatus(create(JobStatusRequestSchema, { handle: kept })).status?.state).toBe(JobState.SUCCEEDED);
    }
    // The idempotency key of a forgotten job is forgotten too: the same key starts a new job.
    const again = await runJob(runner, shell("echo 0", { idempotencyKey: "key-0" }));
    expect(again.deduplicated).toBe(false);
    expect(again.handle.jobId).not.toBe(finished[0]?.jobId);
  });
});
