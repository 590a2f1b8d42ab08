/**
 * The real `flotilla` binary (dist/main.js) run as a child process:
 * exit codes, streaming order, Ctrl-C, plugin inspect and config errors.
 * Needs `tsc -b` first (the test runs the built CLI and the built local
 * provider plugin, as a user would).
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import {
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { descendantsOf, isProcessRunning, processesMatching } from "@flotilla/test-support";
import { afterAll, afterEach, describe, expect, it } from "vitest";

const cliMain = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const localPlugin = fileURLToPath(new URL("../../plugin-local/dist/main.js", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "flotilla-cli-"));
const children: ChildProcess[] = [];

afterEach(() => {
  for (const child of children.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A running CLI with its output so far. */
interface Cli {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the exit code once the CLI exited and its output is drained. */
  done: Promise<number | null>;
  /** Resolves once stdout contains `text`. */
  waitForStdout(text: string): Promise<void>;
}

function flotilla(args: string[], env: Record<string, string> = {}): Cli {
  const child = spawn(process.execPath, [cliMain, ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let stdout = "";
  let stderr = "";
  const waiters: Array<() => void> = [];
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
    for (const w of waiters.splice(0)) w();
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const done = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    child,
    stdout: () => stdout,
    stderr: () => stderr,
    done,
    async waitForStdout(text) {
      while (!stdout.includes(text)) {
        if (child.exitCode !== null) throw new Error(`CLI exited before printing ${text}; stderr:\n${stderr}`);
        await new Promise<void>((r) => waiters.push(r));
      }
    },
  };
}

/** The socket directory a CLI's host made, as the host told its plugin (the plugin's PLUGIN_UNIX_SOCKET_DIR). */
function pluginSocketDir(cliPid: number): string {
  for (const pid of descendantsOf(cliPid)) {
    let environment: string[] = [];
    try {
      environment = readFileSync(`/proc/${pid}/environ`, "utf8").split("\0");
    } catch {
      continue; // It ended while we looked.
    }
    const dir = environment.find((entry) => entry.startsWith("PLUGIN_UNIX_SOCKET_DIR="))?.split("=")[1];
    if (dir) return dir;
  }
  throw new Error(`no plugin of CLI ${cliPid} has PLUGIN_UNIX_SOCKET_DIR in its environment`);
}

// Each test starts real processes (CLI, plugin, job) on a shared, busy machine: allow them time.
describe("flotilla (the real binary)", { timeout: 120_000 }, () => {
  it("prints help", async () => {
    const cli = flotilla(["--help"]);
    expect(await cli.done).toBe(0);
    expect(cli.stdout()).toMatch(/Usage: flotilla/);
    expect(cli.stdout()).toMatch(/run \[options\] <command\.\.\.>/);
  });

  it("the package's bin launcher runs the CLI, and says so when the CLI is not built", async () => {
    const launcher = fileURLToPath(new URL("../bin/flotilla.js", import.meta.url));
    const viaBin = spawnSync(process.execPath, [launcher, "--version"], { encoding: "utf8" });
    expect(viaBin.status).toBe(0);
    expect(viaBin.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    // The same launcher in a package without dist/ (a fresh clone before the build).
    mkdirSync(join(dir, "unbuilt", "bin"), { recursive: true });
    copyFileSync(launcher, join(dir, "unbuilt", "bin", "flotilla.js"));
    const unbuilt = spawnSync(process.execPath, [join(dir, "unbuilt", "bin", "flotilla.js"), "--help"], {
      encoding: "utf8",
    });
    expect(unbuilt.status).toBe(2);
    expect(unbuilt.stderr).toMatch(
      /flotilla is not built yet: this is a source checkout[\s\S]*`node scripts\/bootstrap\.mjs build`/,
    );
  });

  const olderNode = ["/usr/bin/node", "/usr/local/bin/node"].find((path) => {
    const version = spawnSync(path, ["--version"], { encoding: "utf8" });
    return version.status === 0 && Number(/^v(\d+)/.exec(version.stdout)?.[1]) < 24;
  });
  it.skipIf(olderNode === undefined)(
    "the bin launcher on a Node older than 24 tells an installed user to install Node 24 (runs only where an older Node is installed)",
    () => {
      const launcher = fileURLToPath(new URL("../bin/flotilla.js", import.meta.url));
      const result = spawnSync(olderNode as string, [launcher, "--version"], { encoding: "utf8" });
      expect(result.status).toBe(2);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/^flotilla needs Node 24 or newer, but this is Node \d+/);
      expect(result.stderr).toContain("Install Node 24 or newer and run it again.");
    },
  );

  it.each([0, 1, 7])("flotilla run exits with the job's own exit code %i", async (code) => {
    const cli = flotilla(["run", "--", "sh", "-c", `echo out-${code}; exit ${code}`]);
    expect(await cli.done).toBe(code);
    expect(cli.stdout()).toBe(`out-${code}\n`);
    if (code !== 0) expect(cli.stderr()).toMatch(new RegExp(`job local:\\S+ FAILED \\(exit code ${code}\\)`));
  });

  it("streams lines as the job writes them, stdout and stderr apart", async () => {
    const mark = join(dir, "release-marker");
    const cli = flotilla([
      "run",
      "--",
      "sh",
      "-c",
      `echo first; echo to-stderr >&2; while [ ! -e ${mark} ]; do sleep 0.05; done; echo second`,
    ]);
    // The job blocks until the marker exists, so seeing "first" now proves it was streamed, not buffered to the end.
    await cli.waitForStdout("first\n");
    expect(cli.child.exitCode).toBeNull();
    expect(cli.stdout()).not.toContain("second");
    writeFileSync(mark, "");
    expect(await cli.done).toBe(0);
    expect(cli.stdout()).toBe("first\nsecond\n");
    expect(cli.stderr()).toContain("to-stderr\n");
  });

  it("passes -e variables and resolves --secret references from the caller's environment without printing them", async () => {
    const cli = flotilla(
      [
        "run",
        "-e",
        "GREETING=hello",
        "--secret",
        "TOKEN=secret://env/MY_TOKEN",
        "--",
        "sh",
        "-c",
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter length, not a template
        'echo "$GREETING ${#TOKEN}"',
      ],
      { MY_TOKEN: "abcdefgh-secret" },
    );
    expect(await cli.done).toBe(0);
    // The job sees the 15-character secret; the CLI never echoes it.
    expect(cli.stdout()).toBe("hello 15\n");
    expect(cli.stderr()).not.toContain("abcdefgh-secret");
  });

  it("ends when the job's main process ends, not when a background child left holding its output does", async () => {
    const cli = flotilla(["run", "--", "sh", "-c", "sleep 300 & echo $!; exit 0"]);
    await cli.waitForStdout("\n");
    const child = Number(cli.stdout().trim());
    try {
      // Before, the CLI waited as long as the sleep ran (300 s): a bound far below that fails it.
      await expect.poll(() => cli.child.exitCode, { timeout: 30_000 }).toBe(0);
      await expect.poll(() => isProcessRunning(child), { timeout: 10_000 }).toBe(false);
    } finally {
      if (isProcessRunning(child)) process.kill(child, "SIGKILL");
    }
  });

  it("gives the job the --secret variable, not also the variable it is read from", async () => {
    const value = "hx-secret-value-1234";
    const cli = flotilla(
      [
        "run",
        "--secret",
        "DB_PASS=secret://env/HX_SECRET",
        "--",
        "sh",
        "-c",
        // Every variable but DB_PASS, and DB_PASS's length: the value may appear nowhere else.
        // biome-ignore lint/suspicious/noTemplateCurlyInString: shell parameter length, not a template
        'env | grep -v "^DB_PASS="; echo "db=${#DB_PASS}"',
      ],
      { HX_SECRET: value },
    );
    expect(await cli.done).toBe(0);
    expect(cli.stdout()).toContain(`db=${value.length}\n`);
    expect(cli.stdout()).not.toContain(value);
  });

  it("stops a job past --timeout and exits 124, as timeout(1) and `--env` runs do, with a reason saying so", async () => {
    const cli = flotilla(["run", "--timeout", "300ms", "--", "sleep", "30"]);
    expect(await cli.done).toBe(124);
    expect(cli.stderr()).toMatch(/job local:\S+ timed out after 300ms and was stopped \(exit code 124\)/);
  });

  it("Ctrl-C cancels the job, exits 130 and leaves no process behind", async () => {
    const cli = flotilla(["run", "--", "sh", "-c", "echo started; sleep 60"]);
    await cli.waitForStdout("started\n");
    const tree = descendantsOf(cli.child.pid as number);
    // The plugin, the job's shell and its sleep.
    expect(tree.length).toBeGreaterThanOrEqual(3);
    cli.child.kill("SIGINT");
    expect(await cli.done).toBe(130);
    expect(cli.stderr()).toMatch(/SIGINT: cancelling job local:/);
    expect(cli.stderr()).toMatch(/CANCELLED/);
    // Killed processes still need CPU time to exit; on a loaded machine that can take a while.
    await expect.poll(() => tree.filter(isProcessRunning), { timeout: 20_000 }).toEqual([]);
  });

  it("cancels the job when its reader goes away (`flotilla run … | head -1`), exits 141 and leaves nothing running", async () => {
    const cli = flotilla(["run", "--", "sh", "-c", "while :; do echo tick; sleep 0.1; done"]);
    await cli.waitForStdout("tick\n");
    const tree = descendantsOf(cli.child.pid as number);
    // The reader closes its end, as `head -1` does after its line: the CLI's next write fails with EPIPE.
    cli.child.stdout?.destroy();
    expect(await cli.done).toBe(141);
    expect(cli.stderr()).toMatch(/SIGPIPE: cancelling job local:/);
    await expect.poll(() => tree.filter(isProcessRunning), { timeout: 20_000 }).toEqual([]);
  });

  it("a second Ctrl-C stops the plugin at once, and a job ignoring SIGTERM is gone too", async () => {
    const cli = flotilla(["run", "--", "sh", "-c", "trap '' INT TERM; echo started; sleep 60"]);
    await cli.waitForStdout("started\n");
    const tree = descendantsOf(cli.child.pid as number);
    cli.child.kill("SIGINT");
    // Send the second Ctrl-C only once the first was handled: two signals close together can merge into one.
    await expect.poll(() => cli.stderr(), { timeout: 15_000, interval: 50 }).toMatch(/SIGINT: cancelling job/);
    cli.child.kill("SIGINT");
    expect(await cli.done).toBe(130);
    expect(cli.stderr()).toMatch(/SIGINT again: stopping the provider plugin/);
    expect(cli.stderr()).not.toMatch(/Error/);
    await expect.poll(() => tree.filter(isProcessRunning), { timeout: 20_000 }).toEqual([]);
  });

  it("a SIGTERM delivered twice (as `timeout` does, to the group and the child) is one graceful cancel, not a hard stop", async () => {
    const cli = flotilla([
      "run",
      "--",
      "sh",
      "-c",
      "trap 'echo got-term; exit 3' TERM; echo started; while :; do sleep 0.1; done",
    ]);
    await cli.waitForStdout("started\n");
    cli.child.kill("SIGTERM");
    await expect.poll(() => cli.stderr(), { timeout: 15_000, interval: 50 }).toMatch(/SIGTERM: cancelling job/);
    cli.child.kill("SIGTERM");
    expect(await cli.done).toBe(130);
    // The job was asked to stop and did so itself: its trap ran, and the plugin was not killed under it.
    expect(cli.stdout()).toContain("got-term");
    expect(cli.stderr()).not.toMatch(/again: stopping the provider plugin/);
  });

  it("--env runs in an execution environment of the exec factory, with its exit code", async () => {
    const cli = flotilla(["run", "--env", "local", "--", "sh", "-c", "echo from-local-env; exit 5"]);
    expect(await cli.done).toBe(5);
    expect(cli.stdout()).toBe("from-local-env\n");
    const unknown = flotilla(["run", "--env", "nope", "--", "true"]);
    expect(await unknown.done).toBe(2);
    expect(unknown.stderr()).toMatch(/--env "nope": no such execution environment; known: local, provider-ephemeral/);
  });

  it("a CLI killed with SIGKILL takes its plugin and the job with it", async () => {
    const cli = flotilla(["run", "--", "sh", "-c", "echo started; sleep 60"]);
    await cli.waitForStdout("started\n");
    const tree = descendantsOf(cli.child.pid as number);
    expect(tree.length).toBeGreaterThanOrEqual(3);
    cli.child.kill("SIGKILL");
    await cli.done;
    // The plugin sees its stdin close, stops, and kills the job's process group on exit.
    await expect.poll(() => tree.filter(isProcessRunning), { timeout: 20_000 }).toEqual([]);
  });

  it("the socket directory of a CLI killed with SIGKILL is removed by the next start; a live CLI's is kept", async () => {
    const killed = flotilla(["run", "--", "sh", "-c", "echo started; sleep 60"]);
    const live = flotilla(["run", "--", "sh", "-c", "echo started; sleep 60"]);
    await Promise.all([killed.waitForStdout("started\n"), live.waitForStdout("started\n")]);
    const killedDir = pluginSocketDir(killed.child.pid as number);
    const liveDir = pluginSocketDir(live.child.pid as number);
    killed.child.kill("SIGKILL");
    await killed.done;
    // Nothing ran that could remove it: a SIGKILLed process runs no exit hook.
    expect(existsSync(killedDir)).toBe(true);
    const next = flotilla(["run", "--", "true"]);
    expect(await next.done).toBe(0);
    expect(existsSync(killedDir)).toBe(false);
    expect(existsSync(liveDir)).toBe(true);
    live.child.kill("SIGINT");
    expect(await live.done).toBe(130);
    expect(existsSync(liveDir)).toBe(false);
  });

  it("plugin inspect shows a good plugin's handshake, services, schemas and ready time", async () => {
    const cli = flotilla(["plugin", "inspect", "--json", "--", process.execPath, localPlugin]);
    expect(await cli.done).toBe(0);
    const report = JSON.parse(cli.stdout());
    expect(report).toMatchObject({
      plugin: "local",
      protocolVersion: 1,
      handshake: { coreProtocolVersion: 1, appProtocolVersion: 1, protocol: "grpc" },
      services: expect.arrayContaining([
        "flotilla.plugin.v1.IaCProviderRunnerService",
        "flotilla.plugin.v1.RegionListerService",
      ]),
      configSchema: { type: "object" },
      // The local provider's config carries no secret: every key is a path or a number.
      sensitive: { config: [], target: [] },
    });
    expect(report.timings.readyMs).toBeGreaterThan(0);
    const text = flotilla(["plugin", "inspect", "--", process.execPath, localPlugin]);
    expect(await text.done).toBe(0);
    expect(text.stdout()).toMatch(/^plugin +local /m);
    expect(text.stdout()).toMatch(/^ready in +\d+ ms/m);
  });

  it("plugin inspect on a broken plugin prints the runtime's error and exits non-zero", async () => {
    const broken = join(dir, "broken-plugin.sh");
    writeFileSync(broken, "#!/bin/sh\necho 'cannot read my config' >&2\necho 'this is not a handshake'\nsleep 30\n");
    chmodSync(broken, 0o755);
    const cli = flotilla(["plugin", "inspect", "--start-timeout", "5s", "--", broken]);
    expect(await cli.done).toBe(2);
    expect(cli.stderr()).toMatch(/plugin "broken-plugin" failed during handshake/);
    expect(cli.stderr()).toContain("cannot read my config");
    expect(cli.stdout()).toBe("");

    const crashing = join(dir, "crashing-plugin.sh");
    writeFileSync(crashing, "#!/bin/sh\necho 'boom: missing credentials' >&2\nexit 3\n");
    chmodSync(crashing, 0o755);
    const crash = flotilla(["plugin", "inspect", "--", crashing]);
    expect(await crash.done).not.toBe(0);
    expect(crash.stderr()).toMatch(/exit code 3/);
    expect(crash.stderr()).toContain("boom: missing credentials");
  });

  it("rejects a bad flotilla.yaml naming the key and what was expected", async () => {
    writeFileSync(join(dir, "bad.yaml"), "plugins:\n  aws:\n    command: node aws.js\n    colour: red\n");
    const cli = flotilla(["providers", "--config", "bad.yaml"]);
    expect(await cli.done).toBe(2);
    expect(cli.stderr()).toContain("bad.yaml is not a valid Flotilla config:");
    expect(cli.stderr()).toContain("plugins.aws.command: must be an array of strings");
    expect(cli.stderr()).toContain("plugins.aws.colour: is not a known key");
  });

  it("runs a plugin named by a path relative to flotilla.yaml, and without TLS when the file says auto_mtls: false", async () => {
    const project = join(dir, "plain-project");
    mkdirSync(project);
    // Stands in for a plugin in another language that does not do TLS: the local plugin with the
    // host's client certificate withheld, so it sends no certificate and serves plaintext.
    const plugin = join(project, "plain-plugin.sh");
    writeFileSync(plugin, `#!/bin/sh\nunset PLUGIN_CLIENT_CERT\nexec "${process.execPath}" "${localPlugin}"\n`);
    chmodSync(plugin, 0o755);
    const config = join(project, "flotilla.yaml");
    writeFileSync(config, "plugins:\n  plain:\n    command: [./plain-plugin.sh]\n");
    // The CLI runs in `dir`, which has no plain-plugin.sh: only the file's folder has it.
    const refused = flotilla(["regions", "plain", "--config", "plain-project/flotilla.yaml"]);
    expect(await refused.done).toBe(2);
    expect(refused.stderr()).toContain('plugin "plain" failed during handshake: sent no server certificate');
    expect(refused.stderr()).toContain(
      "set `auto_mtls: false` under plugins.plain in flotilla.yaml, or autoMtls: false in its PluginConfig",
    );

    writeFileSync(config, "plugins:\n  plain:\n    command: [./plain-plugin.sh]\n    auto_mtls: false\n");
    const plain = flotilla(["regions", "plain", "--config", "plain-project/flotilla.yaml"]);
    expect(await plain.done).toBe(0);
    expect(plain.stdout()).toMatch(/^local\t/m);
  });

  it("lists the local provider and its region with no config file", async () => {
    expect(existsSync(join(dir, "flotilla.yaml"))).toBe(false);
    const providers = flotilla(["providers"]);
    expect(await providers.done).toBe(0);
    expect(providers.stdout()).toMatch(/^local \(default\)\t\d+\.\d+\.\d+\tIaCProviderRunner, RegionLister$/m);
    const regions = flotilla(["regions", "local"]);
    expect(await regions.done).toBe(0);
    expect(regions.stdout()).toMatch(/^local\t/);
  });

  it("answers status, logs and cancel for a local job after the run that started it has ended", async () => {
    const run = flotilla(["run", "--", "sh", "-c", "echo kept-line; echo kept-err >&2; exit 3"]);
    expect(await run.done).toBe(3);
    const handle = /job (local:\S+) FAILED/.exec(run.stderr())?.[1] as string;
    expect(handle).toBeDefined();
    const status = flotilla(["jobs", "status", "--json", handle]);
    expect(await status.done).toBe(0);
    expect(JSON.parse(status.stdout())).toMatchObject({ handle, state: "failed", exitCode: 3, finished: true });
    const logs = flotilla(["jobs", "logs", handle]);
    expect(await logs.done).toBe(0);
    expect(logs.stdout()).toBe("kept-line\n");
    expect(logs.stderr()).toContain("kept-err\n");
    const cancel = flotilla(["jobs", "cancel", handle]);
    expect(await cancel.done).toBe(0);
    expect(cancel.stdout()).toMatch(/\tFAILED\texit 3\t/);

    const unknown = flotilla(["jobs", "status", "local:00000000-0000-4000-8000-000000000000"]);
    expect(await unknown.done).toBe(1);
    expect(unknown.stderr()).toMatch(/is not in the job journal .*journal\.db/);
    const bad = flotilla(["jobs", "status", "nonsense"]);
    expect(await bad.done).toBe(2);
    expect(bad.stderr()).toMatch(/is neither a handle PROVIDER:JOB_ID/);
  });

  it("run --detach prints the handle and returns; the job runs on, and `jobs logs -f` in another process follows it to its end", async () => {
    const fifo = join(dir, "detach-step");
    spawnSync("mkfifo", [fifo]);
    const run = flotilla(["run", "--detach", "--", "sh", "-c", `echo first; read x < ${fifo}; echo second; exit 6`]);
    expect(await run.done).toBe(0);
    const handle = run.stdout().trim();
    expect(handle).toMatch(/^local:[0-9a-f-]{36}$/);
    expect(run.stderr()).toContain(`flotilla jobs logs -f ${handle}`);

    const listed = flotilla(["jobs", "list", "--json"]);
    expect(await listed.done).toBe(0);
    expect(JSON.parse(listed.stdout())).toEqual(
      expect.arrayContaining([expect.objectContaining({ handle, finished: false, followedBy: null })]),
    );
    const follow = flotilla(["jobs", "logs", "-f", handle]);
    await follow.waitForStdout("first\n");
    writeFileSync(fifo, "go\n");
    expect(await follow.done).toBe(0);
    expect(follow.stdout()).toBe("first\nsecond\n");
    const status = flotilla(["jobs", "status", handle]);
    expect(await status.done).toBe(0);
    expect(status.stdout()).toBe(`${handle}\tFAILED\texit 6\texited with code 6\n`);
  });

  it("jobs cancel stops a detached job from another process, with the reason given", async () => {
    const run = flotilla(["run", "-d", "--", "sh", "-c", "echo up; while :; do sleep 0.1; done"]);
    expect(await run.done).toBe(0);
    const handle = run.stdout().trim();
    const cancel = flotilla(["jobs", "cancel", handle, "--reason", "wrong input"]);
    expect(await cancel.done).toBe(0);
    expect(cancel.stdout()).toBe(`${handle}\tCANCELLED\texit 130\tcancelled: wrong input\n`);
    expect(processesMatching("while :; do sleep 0.1; done")).toEqual([]);
  });

  it("prints every line of a flood and a 2 MB line without a newline whole, with a small memory window; `jobs logs` prints all of it from disk", async () => {
    // A 1000-line memory window: the old plugin dropped lines a reader had not read yet, and cut the long line
    // into 64 KiB lines. The last line has no newline; the CLI prints it with one (docs/cli.md).
    writeFileSync(join(dir, "flood.yaml"), "plugins:\n  local:\n    config: { max_log_lines: 1000 }\n");
    const script = `head -c 2000000 /dev/zero | tr '\\0' a; printf '\\nend\\n'; seq 1 200000; printf 'no newline'`;
    const expected = `${"a".repeat(2_000_000)}\nend\n${Array.from({ length: 200_000 }, (_, i) => `${i + 1}\n`).join("")}no newline\n`;
    const run = flotilla(["run", "--config", "flood.yaml", "--verbose", "--", "sh", "-c", script]);
    expect(await run.done).toBe(0);
    expect(run.stdout().length).toBe(expected.length);
    expect(run.stdout() === expected).toBe(true);
    expect(run.stderr()).not.toMatch(/dropped|warning/);
    const handle = /job (local:\S+) started/.exec(run.stderr())?.[1] as string;
    const logs = flotilla(["jobs", "logs", "--config", "flood.yaml", handle]);
    expect(await logs.done).toBe(0);
    expect(logs.stdout() === expected).toBe(true);
  });

  it("ends quietly with exit 141 when what reads its output stops early (`| head -2`)", async () => {
    // Far more output than a pipe buffers, so the CLI is still writing when head has gone.
    const run = flotilla(["run", "--verbose", "--", "sh", "-c", "seq 1 20000"]);
    expect(await run.done).toBe(0);
    const handle = /job (local:\S+) started/.exec(run.stderr())?.[1] as string;
    expect(handle).toBeDefined();
    // A pipeline's status is head's, so the subshell records the CLI's own.
    const statusFile = join(dir, "logs-exit-status");
    const pipeline = spawn(
      "sh",
      [
        "-c",
        '("$0" "$1" jobs logs --json "$2"; echo $? > "$3") | head -2',
        process.execPath,
        cliMain,
        handle,
        statusFile,
      ],
      { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir }, stdio: ["ignore", "pipe", "pipe"] },
    );
    children.push(pipeline);
    let stdout = "";
    let stderr = "";
    pipeline.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
    });
    pipeline.stderr.setEncoding("utf8").on("data", (d: string) => {
      stderr += d;
    });
    expect(await new Promise((resolve) => pipeline.on("close", resolve))).toBe(0);
    expect(
      stdout
        .trimEnd()
        .split("\n")
        .map((line) => JSON.parse(line)),
    ).toMatchObject([
      { stream: "STDOUT", text: "1" },
      { stream: "STDOUT", text: "2" },
    ]);
    expect(stderr).toBe("");
    expect(readFileSync(statusFile, "utf8")).toBe("141\n");
  });
});
