/**
 * The local provider as a real plugin subprocess, spoken to over gRPC the way
 * any host speaks to any plugin.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { pluginClient, type SpawnedPlugin, spawnPlugin } from "@flotilla/plugin-sdk/testing";
import {
  ContractRegistryService,
  IaCProviderRunnerService,
  IaCProviderService,
  JobState,
  LogStream,
  OptionalServiceName,
  RegionListerService,
} from "@flotilla/protocol";
import { goplugin } from "@flotilla/protocol/wire";
import { descendantsOf, isProcessRunning } from "@flotilla/test-support";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { mountSmallFilesystem } from "./fixtures/full-filesystem.js";

// The built plugin, as a host would start it (vitest runs this file from src/).
const mainJs = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const plugins: SpawnedPlugin[] = [];
const small = mountSmallFilesystem();
afterAll(() => {
  if (!("cannot" in small)) small.remove();
});
const clients: Array<{ close(): void }> = [];

afterEach(() => {
  for (const client of clients.splice(0)) client.close();
  for (const plugin of plugins.splice(0)) plugin.kill();
});

async function start(env: Record<string, string> = {}) {
  const plugin = await spawnPlugin(process.execPath, [mainJs], { env });
  plugins.push(plugin);
  const runner = pluginClient(plugin.handshake, IaCProviderRunnerService);
  clients.push(runner);
  return { plugin, runner };
}

type RunnerClient = Awaited<ReturnType<typeof start>>["runner"];
type JobHandleInit = Awaited<ReturnType<RunnerClient["unary"]>>["handle"];

/** The first line the job prints, as its followed log delivers it: no polling, however slow the machine. */
async function firstLine(runner: RunnerClient, handle: JobHandleInit): Promise<string> {
  for await (const response of runner.serverStream("jobLogs", { handle, follow: true })) {
    const [line] = response.lines;
    if (line) return line.text;
  }
  throw new Error("the job's log ended before it printed a line");
}

describe("plugin-local over gRPC", () => {
  it("advertises the runner and region lister with its schemas, and lists region local", async () => {
    const { plugin } = await start();
    const registryClient = pluginClient(plugin.handshake, ContractRegistryService);
    const regions = pluginClient(plugin.handshake, RegionListerService);
    clients.push(registryClient, regions);
    const { registry } = await registryClient.unary("getContractRegistry", {});
    expect(registry?.pluginName).toBe("local");
    expect([...(registry?.services ?? [])].sort()).toEqual(
      [OptionalServiceName.runner, OptionalServiceName.regionLister].sort(),
    );
    expect(JSON.parse(registry?.configSchemaJson ?? "{}")).toMatchObject({ properties: { max_log_lines: {} } });
    expect(JSON.parse(registry?.targetSchemaJson ?? "{}")).toMatchObject({ properties: { local: {} } });
    const listed = await regions.unary("listRegions", {});
    expect(listed.regions.map((r) => r.id)).toEqual(["local"]);
  });

  it("runs a job, streams its log while following, and reports its real exit code", async () => {
    const { runner, plugin } = await start({ DEMO_TOKEN: "very-secret-value" });
    const { handle } = await runner.unary("runJob", {
      spec: {
        name: "e2e",
        command: ['echo one; echo "token=$TOKEN" >&2; sleep 0.3; echo two; exit 7'],
        secretEnv: { TOKEN: "secret://env/DEMO_TOKEN" },
        target: { kind: { case: "local", value: { shell: true } } },
      },
    });
    const lines: Array<[LogStream, string]> = [];
    for await (const response of runner.serverStream("jobLogs", { handle, follow: true })) {
      for (const line of response.lines) lines.push([line.stream, line.text]);
    }
    expect(lines).toEqual([
      [LogStream.STDOUT, "one"],
      [LogStream.STDERR, "token=very-secret-value"],
      [LogStream.STDOUT, "two"],
    ]);
    const { status } = await runner.unary("jobStatus", { handle });
    expect(status).toMatchObject({ state: JobState.FAILED, exitCode: 7 });
    // The secret reached the job, never the plugin's own logs.
    expect(plugin.stderr()).not.toContain("very-secret-value");
  });

  it("maps a bad spec to INVALID_ARGUMENT naming the field", async () => {
    const { runner } = await start();
    await expect(runner.unary("runJob", { spec: { command: [] } })).rejects.toMatchObject({
      code: 3,
      message: expect.stringMatching(/spec\.command/),
    });
  });

  it("kills running jobs even when the plugin itself is SIGKILLed (its watchdog does)", async () => {
    const { runner, plugin } = await start();
    const { handle } = await runner.unary("runJob", { spec: { command: ["sh", "-c", "echo $$; sleep 60"] } });
    const jobPid = Number(await firstLine(runner, handle));
    expect(isProcessRunning(jobPid)).toBe(true);
    // The plugin alone, not its group: no exit hook runs, and the job's own group is untouched by this.
    plugin.child.kill("SIGKILL");
    await plugin.exited;
    // A killed process still needs CPU time to exit; on a loaded machine that can take a while.
    await expect.poll(() => isProcessRunning(jobPid), { timeout: 10_000 }).toBe(false);
  });

  it("starts its process-group watchdog with PATH alone, none of the plugin's environment (secret sources included)", async () => {
    const value = "hx-secret-value-1234";
    const { runner, plugin } = await start({ HX_SECRET: value });
    const { handle } = await runner.unary("runJob", {
      spec: { command: ["sh", "-c", "echo started; sleep 60"], secretEnv: { DB_PASS: "secret://env/HX_SECRET" } },
    });
    // The watchdog starts with the first job's group.
    await firstLine(runner, handle);
    const watchdog = descendantsOf(plugin.child.pid as number).find((pid) =>
      readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("flotilla-group-watchdog"),
    );
    expect(watchdog).toBeDefined();
    const environment = readFileSync(`/proc/${watchdog}/environ`, "utf8");
    expect(environment).not.toContain(value);
    expect(
      environment
        .split("\0")
        .filter(Boolean)
        .map((entry) => entry.split("=")[0]),
    ).toEqual(["PATH"]);
  });

  it.skipIf("cannot" in small)(
    `with its state_dir on a full disk, the plugin and its job go on, and its logger warns once${"cannot" in small ? ` (skipped: ${small.cannot})` : ""}`,
    async () => {
      if ("cannot" in small) return;
      // A real ENOSPC from the kernel (a filled tmpfs): before, it was thrown from the job store, uncaught,
      // and the plugin died with its job.
      small.fill();
      const { runner, plugin } = await start();
      const provider = pluginClient(plugin.handshake, IaCProviderService);
      clients.push(provider);
      const stateDir = join(small.dir, "state");
      await provider.unary("configure", {
        configJson: new TextEncoder().encode(JSON.stringify({ state_dir: stateDir })),
      });
      for (const script of ["seq 1 20000", "echo again"]) {
        const { handle } = await runner.unary("runJob", { spec: { command: ["sh", "-c", script] } });
        let last = "";
        for await (const response of runner.serverStream("jobLogs", { handle, follow: true }))
          last = response.lines.at(-1)?.text ?? last;
        expect(last).toBe(script === "echo again" ? "again" : "20000");
        const { status } = await runner.unary("jobStatus", { handle });
        expect(status).toMatchObject({ state: JobState.SUCCEEDED, exitCode: 0 });
      }
      expect(plugin.child.exitCode).toBeNull();
      const warnings = plugin
        .stderr()
        .split("\n")
        .filter((line) => line.includes("cannot write job records"));
      expect(warnings).toHaveLength(1);
      expect(JSON.parse(warnings[0] ?? "{}")).toMatchObject({ "@level": "warn" });
    },
  );

  it("kills running jobs when the plugin is told to stop", async () => {
    const { runner, plugin } = await start();
    const { handle } = await runner.unary("runJob", {
      spec: { command: ["sh", "-c", "echo $$; sleep 60"] },
    });
    const jobPid = Number(await firstLine(runner, handle));
    expect(isProcessRunning(jobPid)).toBe(true);
    plugin.child.kill("SIGTERM");
    await plugin.exited;
    // A killed process still needs CPU time to exit; on a loaded machine that can take a while.
    await expect.poll(() => isProcessRunning(jobPid), { timeout: 10_000 }).toBe(false);
  });

  for (const how of ["GRPCController/Shutdown", "SIGTERM"] as const) {
    it(`${how}: a running job gets SIGTERM, so its own clean-up runs before the plugin exits`, async () => {
      const dir = mkdtempSync(join(tmpdir(), "plugin-local-trap-"));
      try {
        const marker = join(dir, "cleanup");
        const { runner, plugin } = await start();
        const { handle } = await runner.unary("runJob", {
          spec: {
            command: [`trap 'echo cleaned >> "$1"; exit 0' TERM; echo ready; while true; do sleep 0.1; done`, marker],
            target: { kind: { case: "local", value: { shell: true } } },
          },
        });
        // The trap is installed once "ready" is printed.
        expect(await firstLine(runner, handle)).toBe("ready");
        if (how === "SIGTERM") {
          plugin.child.kill("SIGTERM");
        } else {
          const controller = pluginClient(plugin.handshake, goplugin.GRPCController);
          clients.push(controller);
          await controller.unary("shutdown", {});
        }
        expect((await plugin.exited).code).toBe(0);
        expect(readFileSync(marker, "utf8")).toBe("cleaned\n");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});
