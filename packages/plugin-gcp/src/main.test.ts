/**
 * End to end: the GCP plugin as a real subprocess (dist/main.js), started the
 * way a host starts it, configured with the GCP fake's endpoint, running a job
 * and returning its logs and exit code — over gRPC and through the
 * `flotilla run` CLI of @flotilla/cli — and passing the SDK's conformance
 * suite.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeGcp, startFakeGcp } from "@flotilla/fakes";
import { pluginClient, runConformance, type SpawnedPlugin, spawnPlugin } from "@flotilla/plugin-sdk/testing";
import {
  ContractRegistryService,
  IaCProviderRunnerService,
  IaCProviderService,
  JobState,
  OptionalServiceName,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { fakeConfig } from "./fixtures/harness.js";

const pluginMain = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "main.js");
const flotillaCli = join(
  dirname(createRequire(import.meta.url).resolve("@flotilla/cli/package.json")),
  "dist",
  "main.js",
);

let fake: FakeGcp;
let plugin: SpawnedPlugin | undefined;
beforeEach(async () => {
  fake = await startFakeGcp();
  fake.logging.setReadQuotaPerMinute(Number.POSITIVE_INFINITY);
  fake.run.setExecutionScript((execution) => ({
    runMs: 200,
    exitCode: [...execution.command, ...execution.args].join(" ").includes("exit 3") ? 3 : 0,
    logLines: [
      { afterMs: 0, text: `running: ${[...execution.command, ...execution.args].join(" ")}` },
      { afterMs: 100, text: "hello from Cloud Run" },
    ],
  }));
});
afterEach(async () => {
  plugin?.kill();
  await plugin?.exited;
  plugin = undefined;
  await fake.close();
});

describe("gcp plugin subprocess", () => {
  it("advertises its services, runs a job on the fake and streams its log and exit code over gRPC", async () => {
    plugin = await spawnPlugin(process.execPath, [pluginMain]);
    const registry = pluginClient(plugin.handshake, ContractRegistryService);
    const provider = pluginClient(plugin.handshake, IaCProviderService);
    const runner = pluginClient(plugin.handshake, IaCProviderRunnerService);
    try {
      const { registry: info } = await registry.unary("getContractRegistry", {});
      expect(info?.pluginName).toBe("gcp");
      expect(info?.services).toEqual(
        expect.arrayContaining([
          OptionalServiceName.runner,
          OptionalServiceName.regionLister,
          OptionalServiceName.resourceDriver,
          OptionalServiceName.driftDetector,
        ]),
      );
      expect(JSON.parse(info?.configSchemaJson ?? "{}").required).toEqual(["project", "region"]);
      await expect(provider.unary("configure", { configJson: new TextEncoder().encode("{}") })).rejects.toThrow(
        /project: is required/,
      );
      await provider.unary("configure", {
        configJson: new TextEncoder().encode(JSON.stringify(fakeConfig(fake.address))),
      });
      const { handle } = await runner.unary("runJob", {
        spec: { name: "e2e", image: "busybox", command: ["sh"], args: ["-c", "echo hi; exit 3"] },
      });
      const lines: string[] = [];
      for await (const page of runner.serverStream("jobLogs", { handle, follow: true })) {
        for (const line of (page as { lines: Array<{ text: string }> }).lines) lines.push(line.text);
      }
      expect(lines).toEqual(["running: sh -c echo hi; exit 3", "hello from Cloud Run"]);
      const { status } = await runner.unary("jobStatus", { handle });
      expect(status?.state).toBe(JobState.FAILED);
      expect(status?.exitCode).toBe(3);
    } finally {
      registry.close();
      provider.close();
      runner.close();
    }
  });

  it("`flotilla run --provider gcp` runs a job against the fake and exits with its exit code after printing its logs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-gcp-e2e-"));
    try {
      const configPath = join(dir, "flotilla.yaml");
      await writeFile(
        configPath,
        JSON.stringify({
          version: 1,
          plugins: { gcp: { command: [process.execPath, pluginMain], config: fakeConfig(fake.address) } },
        }),
      );
      const result = await new Promise<{ code: number | null; output: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [
            flotillaCli,
            "run",
            "--provider",
            "gcp",
            "--config",
            configPath,
            "--image",
            "busybox",
            "--",
            "sh",
            "-c",
            "exit 3",
          ],
          { timeout: 60_000 },
          (_err, stdout, stderr) => resolve({ code: child.exitCode, output: stdout + stderr }),
        );
      });
      expect(result.output).toContain("hello from Cloud Run");
      expect(result.code).toBe(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("passes the conformance suite on the fake with the jobs its registry names (`flotilla plugin test`)", async () => {
    // The fake runs no container: it plays each job as its command says (three lines and exit 0; or a
    // first line and then on until cancelled).
    fake.run.setExecutionScript((context) =>
      context.command.join(" ").includes("sleep")
        ? { runMs: Number.POSITIVE_INFINITY, logLines: ["started"] }
        : { runMs: 50, exitCode: 0, logLines: ["one", "two", "three"] },
    );
    const report = await runConformance(process.execPath, [pluginMain], {
      configJson: JSON.stringify(fakeConfig(fake.address)),
    });
    expect(report.checks.filter((check) => check.status === "failed")).toEqual([]);
    // Skipped: only the checks of services the plugin does not serve yet.
    for (const check of report.checks.filter((check) => check.status === "skipped"))
      expect(check.detail).toMatch(/does not advertise/);
    expect(report.passed).toBe(true);
  }, 120_000);
});
