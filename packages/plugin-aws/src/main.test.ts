/**
 * End to end: the AWS plugin as a real subprocess (dist/main.js), started
 * the way a host starts it, configured with the AWS fake's endpoint, running
 * a job and returning its logs and exit code — once through the SDK's test
 * kit over gRPC, once through the `flotilla run` CLI of @flotilla/cli.
 */
import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeAws, startFakeAws, type TaskScriptContext } from "@flotilla/fakes";
import { pluginClient, runConformance, type SpawnedPlugin, spawnPlugin } from "@flotilla/plugin-sdk/testing";
import {
  ContractRegistryService,
  IaCProviderRunnerService,
  IaCProviderService,
  JobState,
  OptionalServiceName,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";

const pluginMain = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "main.js");
const flotillaCli = join(
  dirname(createRequire(import.meta.url).resolve("@flotilla/cli/package.json")),
  "dist",
  "main.js",
);

const taskScript = (task: TaskScriptContext) => ({
  // The conformance suite's long-running job sleeps until it is cancelled.
  runMs: task.command.join(" ").includes("sleep") ? Number.POSITIVE_INFINITY : 200,
  exitCode: task.command.join(" ").includes("exit 3") ? 3 : 0,
  logLines: [
    { afterMs: 0, text: `running: ${task.command.join(" ")}` },
    { afterMs: 100, text: "hello from ECS" },
  ],
});

let fake: FakeAws;
let plugin: SpawnedPlugin | undefined;
beforeEach(async () => {
  fake = await startFakeAws({ region: "eu-west-1" });
  fake.ecs.setTaskScript(taskScript);
});
afterEach(async () => {
  plugin?.kill();
  await plugin?.exited;
  plugin = undefined;
  await fake.close();
});

const providerConfig = () => ({
  region: "eu-west-1",
  endpoint: fake.endpoint,
  subnets: ["subnet-0123456789abcdef0"],
  executionRoleArn: "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
  statusPollIntervalMs: 50,
  logPollIntervalMs: 25,
  logDrainGraceMs: 100,
});

describe("aws plugin subprocess", () => {
  it("advertises its services, runs a job on the fake and streams its log and exit code over gRPC", async () => {
    plugin = await spawnPlugin(process.execPath, [pluginMain], {
      env: { E2E_KEY: "AKIDE2E", E2E_SECRET: "e2e-secret" },
    });
    const registry = pluginClient(plugin.handshake, ContractRegistryService);
    const provider = pluginClient(plugin.handshake, IaCProviderService);
    const runner = pluginClient(plugin.handshake, IaCProviderRunnerService);
    try {
      const { registry: info } = await registry.unary("getContractRegistry", {});
      expect(info?.pluginName).toBe("aws");
      expect(info?.services).toEqual(
        expect.arrayContaining([
          OptionalServiceName.runner,
          OptionalServiceName.resourceDriver,
          OptionalServiceName.regionLister,
          OptionalServiceName.driftDetector,
        ]),
      );
      expect(JSON.parse(info?.configSchemaJson ?? "{}").required).toEqual(["region"]);

      await expect(provider.unary("configure", { configJson: new TextEncoder().encode("{}") })).rejects.toThrow(
        /region: is required/,
      );
      await provider.unary("configure", {
        configJson: new TextEncoder().encode(JSON.stringify(providerConfig())),
        credentials: [
          { name: "access_key_id", reference: "secret://env/E2E_KEY" },
          { name: "secret_access_key", reference: "secret://env/E2E_SECRET" },
        ],
      });
      const { handle } = await runner.unary("runJob", {
        spec: { name: "e2e", image: "busybox", command: ["sh", "-c", "echo hi; exit 3"] },
      });
      const lines: string[] = [];
      for await (const page of runner.serverStream("jobLogs", { handle, follow: true })) {
        for (const line of (page as { lines: Array<{ text: string }> }).lines) lines.push(line.text);
      }
      expect(lines).toEqual(["running: sh -c echo hi; exit 3", "hello from ECS"]);
      const { status } = await runner.unary("jobStatus", { handle });
      expect(status?.state).toBe(JobState.FAILED);
      expect(status?.exitCode).toBe(3);
    } finally {
      registry.close();
      provider.close();
      runner.close();
    }
  });

  it("`flotilla run --provider aws` runs a job against the fake and exits with its exit code after printing its logs", async () => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-aws-e2e-"));
    try {
      const configPath = join(dir, "flotilla.yaml");
      await writeFile(
        configPath,
        JSON.stringify({
          version: 1,
          plugins: {
            aws: {
              command: [process.execPath, pluginMain],
              env: { E2E_KEY: "AKIDE2E", E2E_SECRET: "e2e-secret" },
              config: providerConfig(),
              credentials: [
                { name: "access_key_id", reference: "secret://env/E2E_KEY" },
                { name: "secret_access_key", reference: "secret://env/E2E_SECRET" },
              ],
            },
          },
        }),
      );
      const result = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = execFile(
          process.execPath,
          [
            flotillaCli,
            "run",
            "--provider",
            "aws",
            "--config",
            configPath,
            "--image",
            "busybox",
            "--",
            "sh",
            "-c",
            "echo hi; exit 3",
          ],
          { timeout: 60_000 },
          (_err, stdout, stderr) => resolve({ code: child.exitCode, stdout, stderr }),
        );
      });
      const output = result.stdout + result.stderr;
      expect(output).toContain("hello from ECS");
      expect(result.code).toBe(3);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("passes the conformance suite on the fake (`flotilla plugin test`) with the jobs its registry names", async () => {
    const commands: string[] = [];
    fake.ecs.setTaskScript((task) => {
      commands.push(task.command.join(" "));
      return taskScript(task);
    });
    const report = await runConformance(process.execPath, [pluginMain], {
      // No credential references: the plugin takes the standard AWS chain, here the environment.
      env: { AWS_ACCESS_KEY_ID: "AKIDCONFORMANCE", AWS_SECRET_ACCESS_KEY: "conformance-secret" },
      configJson: JSON.stringify(providerConfig()),
    });
    expect(report.checks.filter((check) => check.status !== "passed")).toEqual([]);
    expect(report.passed).toBe(true);
    expect(commands).toContain("sh -c echo one; echo two; echo three");
    expect(commands).toContain("sh -c echo started; sleep 600");
  }, 120_000);
});
