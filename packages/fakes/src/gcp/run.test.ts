import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GrpcStatus } from "./api-error.js";
import { GcpFaults } from "./faults.js";
import { codeOf, fakeClients, jobBody, testParent, testProject } from "./fixtures/clients.js";
import { type FakeGcp, startFakeGcp } from "./server.js";

let fake: FakeGcp;
let clients: ReturnType<typeof fakeClients>;
beforeEach(async () => {
  fake = await startFakeGcp();
  clients = fakeClients(fake);
});
afterEach(async () => {
  await clients.close();
  await fake.close();
});

async function createJob(jobId: string, body = jobBody(), parent = testParent) {
  const [operation] = await clients.jobs.createJob({ parent, jobId, job: body });
  const [job] = await operation.promise();
  return job;
}
const getExecution = async (name: string) => (await clients.executions.getExecution({ name }))[0];
async function firstTask(execution: string) {
  const [tasks] = await clients.tasks.listTasks({ parent: execution });
  const task = tasks[0];
  if (!task) throw new Error(`no task under ${execution}`);
  return task;
}
const condition = (execution: { conditions?: Array<{ type?: string | null }> | null }, type: string) =>
  execution.conditions?.find((c) => c.type === type) as Record<string, unknown> | undefined;

describe("the Cloud Run fake: jobs", () => {
  it("creates a job through a long-running operation and starts its first execution in the same call with startExecutionToken", async () => {
    fake.run.setExecutionScript({ provisionMs: 0, runMs: 60_000 });
    const [operation] = await clients.jobs.createJob({
      parent: testParent,
      jobId: "hello",
      job: jobBody({ startExecutionToken: "tok1" }),
    });
    expect(operation.name).toMatch(new RegExp(`^${testParent}/operations/`));
    const [job] = await operation.promise();
    expect(job.name).toBe(`${testParent}/jobs/hello`);
    expect(job.executionCount).toBe(1);
    expect(job.latestCreatedExecution?.name).toBe(`${testParent}/jobs/hello/executions/hello-tok1`);
    expect(fake.calls.count("RunJob")).toBe(0);
    const [executions] = await clients.executions.listExecutions({ parent: job.name as string });
    expect(executions.map((e) => e.name)).toEqual([`${testParent}/jobs/hello/executions/hello-tok1`]);
  });

  it("answers a repeated CreateJob with ALREADY_EXISTS and keeps exactly one execution", async () => {
    await createJob("again", jobBody({ startExecutionToken: "t" }));
    const repeat = clients.jobs.createJob({
      parent: testParent,
      jobId: "again",
      job: jobBody({ startExecutionToken: "t" }),
    });
    expect(await codeOf(repeat)).toBe(GrpcStatus.ALREADY_EXISTS);
    const [executions] = await clients.executions.listExecutions({ parent: `${testParent}/jobs/again` });
    expect(executions).toHaveLength(1);
  });

  it("accepts RFC 1035 job names of up to 63 characters and refuses others", async () => {
    const longest = `a${"b".repeat(62)}`;
    expect((await createJob(longest)).name).toBe(`${testParent}/jobs/${longest}`);
    for (const bad of [`${longest}c`, "Upper", "1digit", "ends-", "has_underscore", ""]) {
      const refused = clients.jobs.createJob({ parent: testParent, jobId: bad, job: jobBody() });
      expect(await codeOf(refused), bad).toBe(GrpcStatus.INVALID_ARGUMENT);
    }
    expect(fake.run.jobNames()).toEqual([`${testParent}/jobs/${longest}`]);
  });

  it("refuses a start token when job name and token together reach 63 characters", async () => {
    const jobId = "j".repeat(40);
    const tooLong = clients.jobs.createJob({
      parent: testParent,
      jobId,
      job: jobBody({ startExecutionToken: "t".repeat(23) }),
    });
    expect(await codeOf(tooLong)).toBe(GrpcStatus.INVALID_ARGUMENT);
    const fits = await createJob(jobId, jobBody({ startExecutionToken: "t".repeat(22) }));
    expect(fits.latestCreatedExecution?.name).toMatch(/\/executions\/j{40}-t{22}$/);
  });

  it("refuses labels in the namespaces Cloud Run API v2 reserves, a container without an image, and more than 10 retries", async () => {
    const labelled = clients.jobs.createJob({
      parent: testParent,
      jobId: "labelled",
      job: jobBody({ labels: { "run.googleapis.com/owner": "x" } }),
    });
    expect(await codeOf(labelled)).toBe(GrpcStatus.INVALID_ARGUMENT);
    const noImage = clients.jobs.createJob({
      parent: testParent,
      jobId: "noimage",
      job: { template: { template: { containers: [{ name: "c" }] } } },
    });
    expect(await codeOf(noImage)).toBe(GrpcStatus.INVALID_ARGUMENT);
    const retries = clients.jobs.createJob({ parent: testParent, jobId: "retries", job: jobBody({ maxRetries: 11 }) });
    expect(await codeOf(retries)).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(fake.run.jobNames()).toEqual([]);
  });

  it("keeps at most the per-region job limit and frees a slot when a job is deleted", async () => {
    fake.run.setJobLimit(2);
    fake.run.setExecutionScript({ provisionMs: 0, runMs: 0 });
    await createJob("one");
    await createJob("two");
    const third = clients.jobs.createJob({ parent: testParent, jobId: "three", job: jobBody() });
    expect(await codeOf(third)).toBe(GrpcStatus.RESOURCE_EXHAUSTED);
    expect((await createJob("three", jobBody(), `projects/${testProject}/locations/europe-west1`)).name).toMatch(
      /europe-west1\/jobs\/three$/,
    );
    const [deletion] = await clients.jobs.deleteJob({ name: `${testParent}/jobs/one` });
    await deletion.promise();
    expect((await createJob("three")).name).toBe(`${testParent}/jobs/three`);
  });

  it("lists jobs newest first in pages whose tokens are bound to the request", async () => {
    fake.run.setPageLimits({ maxSize: 2 });
    for (const id of ["a1", "a2", "a3", "a4", "a5"]) {
      await createJob(id);
      fake.clock.advance(1000);
    }
    const names: string[] = [];
    let pageToken = "";
    let pages = 0;
    do {
      const [jobs, , response] = await clients.jobs.listJobs(
        { parent: testParent, pageSize: 10, pageToken },
        { autoPaginate: false },
      );
      names.push(...jobs.map((j) => (j.name as string).split("/").at(-1) as string));
      pageToken = response?.nextPageToken ?? "";
      pages += 1;
      if (pageToken) {
        const elsewhere = clients.jobs.listJobs(
          { parent: `projects/${testProject}/locations/europe-west1`, pageToken },
          { autoPaginate: false },
        );
        expect(await codeOf(elsewhere)).toBe(GrpcStatus.INVALID_ARGUMENT);
      }
    } while (pageToken);
    expect(names).toEqual(["a5", "a4", "a3", "a2", "a1"]);
    expect(pages).toBe(3);
  });

  it("refuses to delete a job while an execution runs, then deletes it through an operation", async () => {
    fake.run.setExecutionScript({ provisionMs: 0, runMs: 5000 });
    const job = await createJob("busy", jobBody({ startExecutionToken: "x" }));
    expect(await codeOf(clients.jobs.deleteJob({ name: job.name as string }))).toBe(GrpcStatus.FAILED_PRECONDITION);
    fake.clock.advance(5000);
    const [deletion] = await clients.jobs.deleteJob({ name: job.name as string });
    const [deleted] = await deletion.promise();
    expect(deleted.deleteTime).toBeTruthy();
    expect(await codeOf(clients.jobs.getJob({ name: job.name as string }))).toBe(GrpcStatus.NOT_FOUND);
    expect(await codeOf(getExecution(job.latestCreatedExecution?.name as string))).toBe(GrpcStatus.NOT_FOUND);
  });

  it("replaces a job with UpdateJob as a new generation, refusing a stale etag, and creates a missing one only with allow_missing", async () => {
    const job = await createJob("nightly", jobBody({ labels: { team: "a" } }));
    fake.run.setReconcileMs(60_000);
    const body = jobBody({ labels: { team: "b" }, maxRetries: 1 });
    const [operation] = await clients.jobs.updateJob({ job: { ...body, name: job.name, etag: job.etag } });
    const [during] = await clients.jobs.getJob({ name: job.name as string });
    expect(during).toMatchObject({
      generation: "2",
      observedGeneration: "1",
      reconciling: true,
      labels: { team: "b" },
    });
    expect(during.template?.template?.maxRetries).toBe(1);
    expect(during.etag).not.toBe(job.etag);
    const stale = clients.jobs.updateJob({ job: { ...body, name: job.name, etag: job.etag } });
    expect(await codeOf(stale)).toBe(GrpcStatus.ABORTED);
    expect(await codeOf(clients.jobs.deleteJob({ name: job.name as string, etag: job.etag as string }))).toBe(
      GrpcStatus.ABORTED,
    );
    fake.clock.advance(60_000);
    await operation.promise();
    expect((await clients.jobs.getJob({ name: job.name as string }))[0]).toMatchObject({
      observedGeneration: "2",
      reconciling: false,
    });
    const missing = { ...jobBody(), name: `${testParent}/jobs/later` };
    expect(await codeOf(clients.jobs.updateJob({ job: missing }))).toBe(GrpcStatus.NOT_FOUND);
    await clients.jobs.updateJob({ job: missing, allowMissing: true });
    expect(fake.run.jobNames()).toContain(`${testParent}/jobs/later`);
  });

  it("lists the Cloud Run regions through the Locations mixin and refuses a job in an unknown region", async () => {
    fake.run.locations = [
      { locationId: "europe-west1", displayName: "Belgium" },
      { locationId: "us-central1", displayName: "Iowa" },
    ];
    const seen: Array<[string, string]> = [];
    for await (const location of clients.jobs.listLocationsAsync({ name: `projects/${testProject}` }))
      seen.push([location.locationId as string, location.displayName as string]);
    expect(seen).toEqual([
      ["europe-west1", "Belgium"],
      ["us-central1", "Iowa"],
    ]);
    const elsewhere = clients.jobs.createJob({
      parent: `projects/${testProject}/locations/mars-north1`,
      jobId: "x",
      job: jobBody(),
    });
    expect(await codeOf(elsewhere)).toBe(GrpcStatus.INVALID_ARGUMENT);
  });
});

describe("the Cloud Run fake: executions and tasks", () => {
  it("moves an execution through provisioning, running and a failure with the task's real exit code, on the test's clock", async () => {
    fake.run.setExecutionScript({ provisionMs: 1000, runMs: 1000, exitCode: 7 });
    const [operation] = await clients.jobs.createJob({
      parent: testParent,
      jobId: "steps",
      job: jobBody({ maxRetries: 0, startExecutionToken: "s" }),
    });
    const name = `${testParent}/jobs/steps/executions/steps-s`;
    let execution = await getExecution(name);
    expect(condition(execution, "ResourcesAvailable")?.state).toBe("CONDITION_RECONCILING");
    expect(condition(execution, "Started")?.state).toBe("CONDITION_PENDING");
    expect([execution.runningCount, execution.succeededCount, execution.failedCount]).toEqual([0, 0, 0]);
    fake.clock.advance(1000);
    await operation.promise();
    execution = await getExecution(name);
    expect(condition(execution, "Started")?.state).toBe("CONDITION_SUCCEEDED");
    expect(condition(execution, "Completed")?.state).toBe("CONDITION_RECONCILING");
    expect(execution.runningCount).toBe(1);
    fake.clock.advance(1000);
    execution = await getExecution(name);
    expect(condition(execution, "Completed")).toMatchObject({
      state: "CONDITION_FAILED",
      executionReason: "NON_ZERO_EXIT_CODE",
    });
    expect([execution.runningCount, execution.succeededCount, execution.failedCount]).toEqual([0, 0, 1]);
    expect(execution.completionTime).toBeTruthy();
    const task = await firstTask(name);
    expect(task.lastAttemptResult?.exitCode).toBe(7);
    expect(task.lastAttemptResult?.termSignal ?? 0).toBe(0);
    expect(condition(task, "Completed")?.state).toBe("CONDITION_FAILED");
  });

  it("reports a container killed by a signal with term_signal and no exit code", async () => {
    fake.run.setExecutionScript({
      provisionMs: 0,
      runMs: 10,
      termSignal: 9,
      message: "Memory limit of 512 MiB exceeded with 530 MiB used.",
    });
    await createJob("oom", jobBody({ maxRetries: 0, startExecutionToken: "a" }));
    fake.clock.advance(10);
    const task = await firstTask(`${testParent}/jobs/oom/executions/oom-a`);
    expect(task.lastAttemptResult?.termSignal).toBe(9);
    expect(task.lastAttemptResult?.exitCode ?? 0).toBe(0);
    expect(task.lastAttemptResult?.status?.message).toMatch(/Memory limit/);
  });

  it("retries a failing task three times when max_retries is unset, and not at all when it is 0", async () => {
    fake.run.setExecutionScript({ provisionMs: 0, runMs: 100, exitCode: 1 });
    await createJob("default-retries", jobBody({ startExecutionToken: "a" }));
    await createJob("no-retries", jobBody({ maxRetries: 0, startExecutionToken: "a" }));
    fake.clock.advance(100);
    const noRetries = await getExecution(`${testParent}/jobs/no-retries/executions/no-retries-a`);
    expect(noRetries.failedCount).toBe(1);
    const retrying = await getExecution(`${testParent}/jobs/default-retries/executions/default-retries-a`);
    expect([retrying.runningCount, retrying.failedCount, retrying.retriedCount]).toEqual([1, 0, 1]);
    fake.clock.advance(300);
    const task = await firstTask(`${testParent}/jobs/default-retries/executions/default-retries-a`);
    expect(task.retried).toBe(3);
    expect(task.maxRetries).toBe(3);
    expect((await getExecution(`${testParent}/jobs/default-retries/executions/default-retries-a`)).failedCount).toBe(1);
  });

  it("fails a task that outlives its timeout with DEADLINE_EXCEEDED and no exit code", async () => {
    fake.run.setExecutionScript({ provisionMs: 0, runMs: Number.POSITIVE_INFINITY });
    const body = jobBody({ maxRetries: 0, startExecutionToken: "a" });
    (body.template.template as Record<string, unknown>).timeout = { seconds: 2 };
    await createJob("slow", body);
    fake.clock.advance(2000);
    const task = await firstTask(`${testParent}/jobs/slow/executions/slow-a`);
    expect(task.lastAttemptResult?.status?.code).toBe(GrpcStatus.DEADLINE_EXCEEDED);
    expect(task.lastAttemptResult?.exitCode ?? 0).toBe(0);
  });

  it("cancels a running execution (CANCELLING, then cancelled counts) and refuses to cancel a finished one", async () => {
    fake.run.setExecutionScript({ provisionMs: 0, runMs: Number.POSITIVE_INFINITY });
    fake.run.setCancelDelayMs(500);
    await createJob("stop", jobBody({ startExecutionToken: "a" }));
    const name = `${testParent}/jobs/stop/executions/stop-a`;
    const [cancel] = await clients.executions.cancelExecution({ name });
    let execution = await getExecution(name);
    expect(condition(execution, "Completed")).toMatchObject({ executionReason: "CANCELLING" });
    expect(execution.runningCount).toBe(1);
    fake.clock.advance(500);
    const [cancelled] = await cancel.promise();
    expect([cancelled.cancelledCount, cancelled.failedCount, cancelled.succeededCount]).toEqual([1, 0, 0]);
    execution = await getExecution(name);
    expect(condition(execution, "Completed")).toMatchObject({
      state: "CONDITION_FAILED",
      executionReason: "CANCELLED",
    });
    expect(await codeOf(clients.executions.cancelExecution({ name }))).toBe(GrpcStatus.FAILED_PRECONDITION);
  });

  it("runs a job again with RunJob: a new execution with overrides, whose operation ends with the execution", async () => {
    const seen: string[][] = [];
    fake.run.setExecutionScript((context) => {
      seen.push(context.args);
      return { provisionMs: 0, runMs: 100, exitCode: context.args.includes("--fail") ? 2 : 0 };
    });
    const job = await createJob("rerun", jobBody({ maxRetries: 0 }));
    const [ok] = await clients.jobs.runJob({ name: job.name as string });
    const [failing] = await clients.jobs.runJob({
      name: job.name as string,
      overrides: { containerOverrides: [{ args: ["--fail"] }] },
    });
    expect(seen).toEqual([["--greet"], ["--fail"]]);
    fake.clock.advance(100);
    const [execution] = await ok.promise();
    expect(execution.name).toMatch(/\/executions\/rerun-[a-z0-9]{5}$/);
    expect(execution.succeededCount).toBe(1);
    await expect(failing.promise()).rejects.toMatchObject({ code: GrpcStatus.FAILED_PRECONDITION });
  });

  it("reports an image that cannot be pulled as a failed ResourcesAvailable condition and fails the create operation", async () => {
    fake.run.setExecutionScript({
      provisionMs: 0,
      runMs: 0,
      startFailure: { reason: "CONTAINER_MISSING", message: "Image 'gcr.io/x/missing' not found." },
    });
    const [operation] = await clients.jobs.createJob({
      parent: testParent,
      jobId: "missing",
      job: jobBody({ startExecutionToken: "a" }),
    });
    await expect(operation.promise()).rejects.toMatchObject({ message: expect.stringMatching(/not found/) });
    const execution = await getExecution(`${testParent}/jobs/missing/executions/missing-a`);
    expect(condition(execution, "ResourcesAvailable")).toMatchObject({
      state: "CONDITION_FAILED",
      reason: "CONTAINER_MISSING",
    });
    expect(execution.failedCount).toBe(1);
  });

  it("lists executions across jobs with jobs/- and tasks across jobs with jobs/-/executions/-, paged", async () => {
    fake.run.setPageLimits({ maxSize: 2 });
    for (const id of ["x1", "x2", "x3"]) await createJob(id, jobBody({ startExecutionToken: "t" }));
    const executions: string[] = [];
    for await (const e of clients.executions.listExecutionsAsync({ parent: `${testParent}/jobs/-` }))
      executions.push(e.name as string);
    expect(executions.map((n) => n.split("/").at(-1)).sort()).toEqual(["x1-t", "x2-t", "x3-t"]);
    const tasks: string[] = [];
    for await (const t of clients.tasks.listTasksAsync({ parent: `${testParent}/jobs/-/executions/-` }))
      tasks.push(t.name as string);
    expect(tasks.map((n) => n.split("/").at(-1)).sort()).toEqual(["x1-t-task0", "x2-t-task0", "x3-t-task0"]);
    expect(fake.calls.count("ListTasks")).toBe(2);
  });
});

describe("the Cloud Run fake: transport", () => {
  it("needs no credentials: no call carries an authorization header", async () => {
    await createJob("anon");
    expect(fake.authorizations.length).toBeGreaterThan(0);
    expect(fake.authorizations.every((a) => a === "")).toBe(true);
  });

  it("fails injected calls with the gRPC code, which the Cloud Run client does not retry", async () => {
    fake.faults.inject("GetJob", GcpFaults.unavailable);
    fake.faults.inject("CreateJob", () => GcpFaults.permissionDenied("run.jobs.create"));
    expect(await codeOf(clients.jobs.createJob({ parent: testParent, jobId: "denied", job: jobBody() }))).toBe(
      GrpcStatus.PERMISSION_DENIED,
    );
    const job = await createJob("flaky");
    expect(await codeOf(clients.jobs.getJob({ name: job.name as string }))).toBe(GrpcStatus.UNAVAILABLE);
    expect(fake.calls.count("GetJob")).toBe(1);
  });
});
