/**
 * A host killed with SIGKILL mid-job, then started again: it finds the job in the journal, follows it on, and
 * the job runs exactly once, ends with the right state and exit code, and its log is stored whole, no line
 * lost or repeated. The host is a real process (fixtures/tracker-host.mjs) with the real local provider
 * plugin running durable jobs; each kill point is reached through what the host says on stdout, and each
 * step of the job through a FIFO it reads: nothing here waits for time to pass.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { processesMatching } from "@flotilla/test-support";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { killSupervisors } from "./fixtures/local-provider.js";
import { SqliteJournal } from "./sqlite-journal.js";

const hostScript = fileURLToPath(new URL("./fixtures/tracker-host.mjs", import.meta.url));
const require = createRequire(import.meta.url);
const localPlugin = join(dirname(require.resolve("@flotilla/plugin-local/package.json")), "dist", "main.js");

interface HostEvent {
  event: string;
  [key: string]: unknown;
}

/** A running tracker host and what it has said so far. */
class Host {
  readonly events: HostEvent[] = [];
  readonly exited: Promise<number | null>;
  readonly #child: ChildProcess;
  #stderr = "";
  #waiters: Array<() => void> = [];

  constructor(config: object) {
    this.#child = spawn(process.execPath, [hostScript, JSON.stringify(config)], { stdio: ["ignore", "pipe", "pipe"] });
    this.#child.stderr?.on("data", (chunk: Buffer) => {
      this.#stderr += chunk.toString();
    });
    createInterface({ input: this.#child.stdout as NodeJS.ReadableStream }).on("line", (line) => {
      this.events.push(JSON.parse(line) as HostEvent);
      for (const wake of this.#waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) =>
      this.#child.once("exit", (code) => {
        for (const wake of this.#waiters.splice(0)) wake();
        resolve(code);
      }),
    );
  }

  /** Resolves with the first event that matches; fails if the host exits first. */
  async until(match: (event: HostEvent) => boolean): Promise<HostEvent> {
    for (;;) {
      const found = this.events.find(match);
      if (found) return found;
      if (this.#child.exitCode !== null || this.#child.signalCode !== null) {
        throw new Error(
          `host exited (${this.#child.exitCode ?? this.#child.signalCode}) before the event; stderr:\n${this.#stderr}`,
        );
      }
      await new Promise<void>((resolve) => this.#waiters.push(resolve));
    }
  }

  /** SIGKILL, and wait until it is gone (and reaped: its pid no longer exists). */
  async kill(): Promise<void> {
    this.#child.kill("SIGKILL");
    await this.exited;
  }
}

let dir: string;
let hosts: Host[];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "fl-kill-"));
  hosts = [];
});
afterEach(async () => {
  for (const host of hosts) await host.kill();
  killSupervisors(join(dir, "local-jobs"));
  rmSync(dir, { recursive: true, force: true });
});

function startHost(config: object): Host {
  const host = new Host({
    journal: join(dir, "journal.db"),
    stateDir: join(dir, "local-jobs"),
    plugin: localPlugin,
    ...config,
  });
  hosts.push(host);
  return host;
}

/**
 * A job that writes `first` numbered lines, waits for a line on the FIFO `step`, writes `second` more and exits
 * with 7. Each start of it appends a line to `runs`.
 */
function numberedJob(first: number, second: number) {
  const fifo = join(dir, "step");
  execFileSync("mkfifo", [fifo]);
  const script = [
    `echo run >> ${join(dir, "runs")}`,
    `i=1; while [ $i -le ${first} ]; do echo "line $i"; i=$((i+1)); done`,
    `read step < ${fifo}`,
    `while [ $i -le ${first + second} ]; do echo "line $i"; i=$((i+1)); done`,
    "exit 7",
  ].join("\n");
  return {
    spec: {
      name: "numbered",
      command: [script],
      target: { kind: { case: "local", value: { shell: true } } },
      idempotencyKey: "kill-restart-job",
    },
    /** Lets the job write its second part (opening a FIFO for writing waits for its reader, off the event loop). */
    release: async () => {
      const handle = await open(fifo, "w");
      await handle.write("go\n");
      await handle.close();
    },
    expectedLines: Array.from({ length: first + second }, (_, i) => `line ${i + 1}`),
  };
}

/** What the journal holds about the one job, read after the hosts are done. */
async function journalOutcome() {
  const journal = SqliteJournal.open(join(dir, "journal.db"));
  try {
    const jobs = await journal.list();
    expect(jobs).toHaveLength(1);
    const job = jobs[0] as (typeof jobs)[number];
    const lines = await journal.readLog(job.id, 0, 1_000_000);
    return { job, texts: lines.map((line) => line.text), seqs: lines.map((line) => line.seq) };
  } finally {
    await journal.close();
  }
}

function runsOfTheJob(): number {
  return readFileSync(join(dir, "runs"), "utf8").split("\n").filter(Boolean).length;
}

function localJobRecords(): string[] {
  return readdirSync(join(dir, "local-jobs")).filter((name) => name !== "keys");
}

async function restartAndFinish(release: () => Promise<void>): Promise<HostEvent> {
  const second = startHost({ mode: "resume" });
  const following = await second.until((e) => e.event === "following");
  expect(following.ids).toHaveLength(1);
  await release();
  const done = await second.until((e) => e.event === "done");
  expect(await second.exited).toBe(0);
  return done;
}

describe("a tracker host killed with SIGKILL and started again", () => {
  it("before RunJob was sent: the restarted host dispatches the job, once", async () => {
    const job = numberedJob(2, 2);
    const first = startHost({ mode: "submit", spec: job.spec, hold: "before-runjob" });
    await first.until((e) => e.event === "holding");
    await first.kill();
    expect(() => readFileSync(join(dir, "runs"))).toThrow(/ENOENT/);

    const done = await restartAndFinish(job.release);
    expect(done).toMatchObject({ state: "failed", finished: true, exitCode: 7, error: null });
    const { job: recorded, texts } = await journalOutcome();
    expect(recorded).toMatchObject({ state: "failed", exitCode: 7, providerExitCode: 7, finished: true });
    expect(texts).toEqual(job.expectedLines);
    expect(runsOfTheJob()).toBe(1);
    expect(localJobRecords()).toHaveLength(1);
  });

  it("after the provider started the job but before RunJob's answer arrived: the restarted host finds that job", async () => {
    const job = numberedJob(3, 3);
    const first = startHost({ mode: "submit", spec: job.spec, hold: "after-runjob" });
    const holding = await first.until((e) => e.event === "holding");
    await first.kill();
    // The journal never heard of the handle: only the idempotency key can find the job again.
    const before = await journalOutcome();
    expect(before.job).toMatchObject({ state: "dispatching", handle: undefined });

    const done = await restartAndFinish(job.release);
    expect(done).toMatchObject({ state: "failed", exitCode: 7 });
    const { job: recorded, texts } = await journalOutcome();
    expect(recorded.handle?.jobId).toBe(holding.jobId);
    expect(recorded).toMatchObject({ state: "failed", exitCode: 7, finished: true });
    expect(texts).toEqual(job.expectedLines);
    expect(runsOfTheJob()).toBe(1);
    expect(localJobRecords()).toEqual([holding.jobId]);
  });

  it("while the job runs: the restarted host follows it from the saved cursor to its end", async () => {
    const job = numberedJob(3, 3);
    const first = startHost({ mode: "submit", spec: job.spec });
    await first.until((e) => e.event === "lines" && (e.stored as number) >= 3);
    await first.kill();
    const before = await journalOutcome();
    expect(before.job).toMatchObject({ log: { lines: 3, cursor: "3" }, finished: false });
    expect(["pending", "running"]).toContain(before.job.state);

    const done = await restartAndFinish(job.release);
    expect(done).toMatchObject({ state: "failed", exitCode: 7 });
    const { job: recorded, texts, seqs } = await journalOutcome();
    expect(recorded).toMatchObject({ state: "failed", exitCode: 7, providerExitCode: 7, finished: true });
    expect(texts).toEqual(job.expectedLines);
    expect(seqs).toEqual(job.expectedLines.map((_, i) => i + 1));
    expect(runsOfTheJob()).toBe(1);
  });

  it("while it streams the log: the lines stored stay, the rest come from the provider, none twice", async () => {
    const job = numberedJob(3000, 1000);
    const first = startHost({ mode: "submit", spec: job.spec, hold: { lines: 600 } });
    const holding = await first.until((e) => e.event === "holding");
    await first.kill();
    const before = await journalOutcome();
    // Killed mid-stream: some lines stored, more of the first part waiting at the provider.
    expect(before.texts.length).toBe(holding.stored);
    expect(before.texts.length).toBeLessThan(3000);
    expect(before.texts).toEqual(job.expectedLines.slice(0, before.texts.length));

    const done = await restartAndFinish(job.release);
    expect(done).toMatchObject({ state: "failed", exitCode: 7 });
    const { job: recorded, texts } = await journalOutcome();
    expect(recorded).toMatchObject({ state: "failed", exitCode: 7, finished: true, log: { lines: 4000 } });
    expect(texts).toEqual(job.expectedLines);
    expect(runsOfTheJob()).toBe(1);
  });

  it("leaves no supervisor, plugin or job process behind once the job has ended", async () => {
    const job = numberedJob(1, 1);
    const first = startHost({ mode: "submit", spec: job.spec });
    await first.until((e) => e.event === "lines");
    await first.kill();
    await restartAndFinish(job.release);
    const ours = () =>
      processesMatching("job-supervisor.js").filter((p) => localJobRecords().some((id) => p.cmdline.includes(id)));
    await expect.poll(ours).toEqual([]);
    expect(processesMatching(join(dir, "step"))).toEqual([]);
  });
});
