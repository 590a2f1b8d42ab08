/**
 * The run.job resource type through the plugin's ResourceDriver and DriftDetector, with the real
 * `@google-cloud/run` JobsClient against the GCP fake.
 */
import { create } from "@bufbuild/protobuf";
import {
  AlreadyExistsError,
  CheckResourceHealthRequestSchema,
  CreateResourceRequestSchema,
  DeleteResourceRequestSchema,
  DetectDriftRequestSchema,
  DiagnosticSeverity,
  DiffResourceRequestSchema,
  FailedPreconditionError,
  InvalidArgumentError,
  ReadResourceRequestSchema,
  ScaleResourceRequestSchema,
  TroubleshootResourceRequestSchema,
  UpdateResourceRequestSchema,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GcpHarness, startGcpHarness } from "../fixtures/harness.js";

let h: GcpHarness;
const ref = { type: "run.job", name: "nightly-report" };
const jobName = "projects/flotilla-test/locations/us-central1/jobs/nightly-report";
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const parse = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
const reportConfig = {
  image: "us-docker.pkg.dev/cloudrun/container/job",
  args: ["--date", "yesterday"],
  secretEnv: { DB_PASSWORD: "secret://gcp-sm/db-password" },
  memory: "1Gi",
  taskCount: 4,
  parallelism: 2,
  timeoutSeconds: 1800,
  labels: { team: "data" },
};

beforeEach(async () => {
  h = await startGcpHarness();
});
afterEach(async () => {
  await h.close();
});

async function createReport(config: Record<string, unknown> = reportConfig) {
  const out = await h.driver.createResource(
    create(CreateResourceRequestSchema, { ref, configJson: json(config) }),
    h.context,
  );
  return out.state;
}
const jobs = async () => h.plugin.runtime().clients.jobs();
const job = async () => (await (await jobs()).getJob({ name: jobName }))[0];
const health = () => h.driver.checkResourceHealth(create(CheckResourceHealthRequestSchema, { ref }), h.context);

describe("run.job", () => {
  it("creates a job definition without running it, with no retries unless asked, and reads it back as its config", async () => {
    const state = await createReport();
    expect(state?.ref?.providerId).toBe(jobName);
    const written = await job();
    expect(written.executionCount).toBe(0);
    expect(written.template).toMatchObject({ taskCount: 4, parallelism: 2 });
    expect(written.template?.template?.maxRetries).toBe(0);
    expect(written.template?.template?.containers?.[0]?.resources?.limits).toEqual({ memory: "1024Mi" });
    expect(written.labels).toEqual({ team: "data", "managed-by": "flotilla-resource" });
    h.fake.clock.advance(1_000);
    const { state: read } = await h.driver.readResource(create(ReadResourceRequestSchema, { ref }), h.context);
    expect(read?.status).toBe("READY");
    expect(parse(read?.configJson)).toMatchObject({
      image: reportConfig.image,
      args: reportConfig.args,
      secretEnv: { DB_PASSWORD: "secret://gcp-sm/db-password/latest" },
      taskCount: 4,
      parallelism: 2,
      maxRetries: 0,
      timeoutSeconds: 1800,
      labels: { team: "data" },
    });
    expect((await health()).message).toBe("ready; never run");
    await expect(createReport()).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it("refuses a bad config before any call, and a replica count: a job has tasks, not replicas", async () => {
    h.fake.calls.reset();
    for (const [config, message] of [
      [{ image: "i", taskCount: 10_001 }, /taskCount: must be <= 10000/],
      [{ image: "i", maxRetries: 11 }, /maxRetries: must be <= 10/],
      [{ image: "i", timeoutSeconds: 90_000 }, /timeoutSeconds: must be <= 86400/],
      [{ image: "i", port: 8080 }, /port: is not a known key/],
    ] as const) {
      await expect(createReport(config)).rejects.toThrow(message);
    }
    expect(h.fake.calls.snapshot()).toEqual({});
    await createReport();
    const scaled = h.driver.scaleResource(create(ScaleResourceRequestSchema, { ref, replicas: 3n }), h.context);
    await expect(scaled).rejects.toThrow(/has no replicas: each execution runs taskCount tasks; set taskCount/);
  });

  it("updates the whole definition with its etag, keeping what the config does not cover, and refuses a project change", async () => {
    const created = await createReport();
    const client = await jobs();
    const current = await job();
    // Someone adds an annotation the config knows nothing of; the update keeps it.
    await client.updateJob({ job: { ...current, annotations: { "example.com/owner": "data-team" } } });
    const { state } = await h.driver.updateResource(
      create(UpdateResourceRequestSchema, {
        ref: created?.ref,
        configJson: json({ ...reportConfig, taskCount: 8, maxRetries: 2 }),
      }),
      h.context,
    );
    expect(parse(state?.configJson)).toMatchObject({ taskCount: 8, maxRetries: 2 });
    const updated = await job();
    expect(updated.annotations).toEqual({ "example.com/owner": "data-team" });
    expect(updated.generation).toBe("3");
    await expect(
      h.driver.updateResource(
        create(UpdateResourceRequestSchema, {
          ref: created?.ref,
          configJson: json({ ...reportConfig, project: "other-project" }),
        }),
        h.context,
      ),
    ).rejects.toThrow(/\/project cannot change in place/);
  });

  it("reports its latest execution in health and troubleshooting, and is never swept as a finished one-off job", async () => {
    await createReport({ ...reportConfig, taskCount: 1, parallelism: 1 });
    h.fake.clock.advance(1_000);
    h.fake.run.setExecutionScript({ runMs: 10, exitCode: 2, message: "exit status 2" });
    const [operation] = await (await jobs()).runJob({ name: jobName });
    h.fake.clock.advance(1_000);
    await operation.promise().catch(() => undefined);
    expect((await health()).message).toMatch(/^ready; 1 execution\(s\), the latest nightly-report-\w+ failed$/);
    const { diagnostics } = await h.driver.troubleshootResource(
      create(TroubleshootResourceRequestSchema, { ref }),
      h.context,
    );
    expect((diagnostics ?? []).map((d) => [d.severity, d.summary])).toEqual([
      [
        DiagnosticSeverity.ERROR,
        expect.stringMatching(/^execution nightly-report-\w+: Completed: failed \(NON_ZERO_EXIT_CODE\)$/),
      ],
    ]);
    // The sweep deletes finished jobs labelled managed-by=flotilla (the runner's); this one is a resource.
    expect(await h.plugin.runtime().sweepFinishedJobs("flotilla-test", "us-central1")).toBe(0);
    expect(h.fake.run.jobNames()).toContain(jobName);
  });

  it("diffs and detects drift in the normal form, and a deleted job as missing; delete waits for no one", async () => {
    const created = await createReport();
    const diff = await h.driver.diffResource(
      create(DiffResourceRequestSchema, {
        ref: created?.ref,
        desiredConfigJson: json({ memory: "1024Mi", taskCount: 5, secretEnv: reportConfig.secretEnv }),
      }),
      h.context,
    );
    expect((diff.changes ?? []).map((c) => c.path)).toEqual(["/taskCount"]);
    const detect = () =>
      h.drift.detectDrift(create(DetectDriftRequestSchema, { ref, desiredConfigJson: json(reportConfig) }), h.context);
    expect(await detect()).toMatchObject({ drifted: false, missing: false });
    const current = await job();
    await (await jobs()).updateJob({
      job: { ...current, template: { ...current.template, taskCount: 1 } },
    });
    const drift = await detect();
    expect((drift.changes ?? []).map((c) => [c.path, c.actualJson, c.desiredJson])).toEqual([["/taskCount", "1", "4"]]);
    await h.driver.deleteResource(create(DeleteResourceRequestSchema, { ref }), h.context);
    await h.driver.deleteResource(create(DeleteResourceRequestSchema, { ref }), h.context);
    expect(await detect()).toMatchObject({ drifted: true, missing: true });
  });

  it("refuses to delete a job while an execution runs, saying so", async () => {
    await createReport();
    h.fake.clock.advance(1_000);
    h.fake.run.setExecutionScript({ runMs: Number.POSITIVE_INFINITY });
    await (await jobs()).runJob({ name: jobName });
    const attempt = h.driver.deleteResource(create(DeleteResourceRequestSchema, { ref }), h.context);
    await expect(attempt).rejects.toBeInstanceOf(FailedPreconditionError);
    await expect(h.driver.deleteResource(create(DeleteResourceRequestSchema, { ref }), h.context)).rejects.toThrow(
      /running execution/,
    );
  });

  it("names the rule for a job name Cloud Run would refuse", async () => {
    await expect(
      h.driver.readResource(create(ReadResourceRequestSchema, { ref: { ...ref, name: "Nightly" } }), h.context),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
