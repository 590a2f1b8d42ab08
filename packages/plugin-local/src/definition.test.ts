import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { configureDirectly } from "@flotilla/plugin-sdk/testing";
import { DescribeRequestSchema, JobState, JobStatusRequestSchema, RunJobRequestSchema } from "@flotilla/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { createLocalPlugin, LOCAL_PLUGIN_NAME, LOCAL_PLUGIN_VERSION } from "./definition.js";

const dir = mkdtempSync(join(tmpdir(), "plugin-local-def-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("createLocalPlugin", () => {
  it("implements the runner and region lister, not the resource driver or drift detector", () => {
    const { definition } = createLocalPlugin({});
    expect(definition.name).toBe(LOCAL_PLUGIN_NAME);
    expect(LOCAL_PLUGIN_VERSION).toMatch(/^\d+\.\d+\.\d+/);
    expect(Object.keys(definition.runner ?? {}).sort()).toEqual([
      "batchJobStatus",
      "cancelJob",
      "jobLogs",
      "jobStatus",
      "runJob",
    ]);
    expect(definition.regionLister).toBeDefined();
    expect(definition.resourceDriver).toBeUndefined();
    expect(definition.driftDetector).toBeUndefined();
    expect(definition.config?.schema).toMatchObject({ type: "object" });
    expect(definition.targetSchema).toMatchObject({ properties: { local: { type: "object" } } });
  });

  it("configure rejects a bad config naming the key", async () => {
    const { definition } = createLocalPlugin({});
    await expect(
      configureDirectly(definition, { configJson: new TextEncoder().encode('{"inherit_env":"yes"}') }),
    ).rejects.toThrow(/inherit_env: must be true or false/);
  });

  it("runs jobs with the config Configure applied, and with the defaults before that", async () => {
    const { definition, runner } = createLocalPlugin({ PATH: process.env.PATH });
    const pwd = async () => {
      const { handle } = await runner.runJob(create(RunJobRequestSchema, { spec: { command: ["pwd"] } }));
      const job = runner.job(handle.jobId);
      await job?.finished;
      return (await job?.log.read(""))?.lines.map((line) => line.text);
    };
    try {
      expect(await pwd()).toEqual([process.cwd()]);
      await configureDirectly(definition, {
        configJson: new TextEncoder().encode(JSON.stringify({ working_dir: dir })),
      });
      expect(await pwd()).toEqual([dir]);
    } finally {
      await runner.shutdown("test cleanup");
    }
  });

  it("onShutdown stops running jobs with SIGTERM, so a job's trap runs, and waits for them", async () => {
    const { definition, runner } = createLocalPlugin({ PATH: process.env.PATH });
    const marker = join(dir, "cleanup");
    try {
      const { handle } = await runner.runJob(
        create(RunJobRequestSchema, {
          spec: {
            command: [`trap 'echo cleaned >> "$1"; exit 0' TERM; echo ready; while true; do sleep 0.1; done`, marker],
            target: { kind: { case: "local", value: { shell: true } } },
          },
        }),
      );
      const job = runner.job(handle.jobId);
      // The trap is installed once "ready" is printed.
      await expect.poll(() => job?.log.length ?? 0, { timeout: 10_000 }).toBeGreaterThan(0);
      await definition.onShutdown?.(new AbortController().signal);
      expect(readFileSync(marker, "utf8")).toBe("cleaned\n");
      const { status } = runner.jobStatus(create(JobStatusRequestSchema, { handle }));
      expect(status?.state).toBe(JobState.CANCELLED);
    } finally {
      await runner.shutdown("test cleanup");
    }
  });

  it("describes what it can do", async () => {
    const { definition } = createLocalPlugin({});
    const described = await definition.provider?.describe?.(create(DescribeRequestSchema, {}), {} as never);
    expect(described?.capabilities).toEqual(["jobs", "jobs:local-process", "secrets:env", "secrets:file"]);
  });
});
