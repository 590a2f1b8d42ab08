import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ecsOp } from "./fixtures/wire.js";
import { type FakeAws, startFakeAws } from "./server.js";

let fake: FakeAws;
beforeEach(async () => {
  fake = await startFakeAws();
  await ecsOp(fake.endpoint, "RegisterTaskDefinition", {
    family: "job",
    containerDefinitions: [
      {
        name: "job",
        image: "busybox",
        logConfiguration: {
          logDriver: "awslogs",
          options: { "awslogs-group": "/g", "awslogs-stream-prefix": "p", "awslogs-create-group": "true" },
        },
      },
    ],
  });
});
afterEach(async () => {
  await fake.close();
});

const runTask = (extra: Record<string, unknown> = {}) =>
  ecsOp(fake.endpoint, "RunTask", { cluster: "default", taskDefinition: "job", ...extra });
async function lastStatus(arn: string) {
  const out = await ecsOp(fake.endpoint, "DescribeTasks", { cluster: "default", tasks: [arn] });
  return (out.body.tasks as Array<Record<string, unknown>>)[0] as Record<string, unknown>;
}

describe("the ECS fake", () => {
  it("moves a task through PROVISIONING → PENDING → RUNNING → STOPPED on its clock, writing its log lines", async () => {
    fake.ecs.setTaskScript(() => ({
      provisioningMs: 1000,
      pendingMs: 1000,
      runMs: 1000,
      exitCode: 7,
      logLines: ["a", { afterMs: 500, text: "b" }],
    }));
    const arn = ((await runTask()).body.tasks as Array<{ taskArn: string }>)[0]?.taskArn as string;
    expect((await lastStatus(arn)).lastStatus).toBe("PROVISIONING");
    fake.clock.advance(1000);
    expect((await lastStatus(arn)).lastStatus).toBe("PENDING");
    fake.clock.advance(1000);
    expect((await lastStatus(arn)).lastStatus).toBe("RUNNING");
    fake.clock.advance(1000);
    const stopped = await lastStatus(arn);
    expect(stopped).toMatchObject({
      lastStatus: "STOPPED",
      stopCode: "EssentialContainerExited",
      containers: [{ exitCode: 7 }],
    });
    expect(fake.logs.events("/g", `p/job/${arn.split("/").at(-1)}`).map((e) => e.message)).toEqual(["a", "b"]);
  });

  it("returns the same task for a repeated client token and a ConflictException with its ARN for a different request", async () => {
    const first = await runTask({ clientToken: "t1" });
    const again = await runTask({ clientToken: "t1" });
    const arnsOf = (body: Record<string, unknown>) => (body.tasks as Array<{ taskArn: string }>).map((t) => t.taskArn);
    expect(arnsOf(again.body)).toEqual(arnsOf(first.body));
    const conflict = await runTask({ clientToken: "t1", tags: [{ key: "k", value: "v" }] });
    expect(conflict.body).toMatchObject({ __type: "ConflictException", resourceIds: fake.ecs.taskArns() });
    expect(fake.ecs.taskArns()).toHaveLength(1);
  });

  it("accepts a client token of up to 64 characters in the range 33-126 and refuses others as ECS does", async () => {
    const longest = "t".repeat(64);
    const accepted = await runTask({ clientToken: longest });
    expect(accepted.status).toBe(200);
    expect(fake.ecs.taskArns()).toHaveLength(1);
    const tooLong = await runTask({ clientToken: `${longest}u` });
    expect(tooLong.status).toBe(400);
    expect(tooLong.body).toEqual({ __type: "InvalidParameterException", message: "clientToken longer than 64." });
    for (const clientToken of ["has space", "ключ", "tab\there"]) {
      const refused = await runTask({ clientToken });
      expect(refused.body.__type).toBe("InvalidParameterException");
      expect(refused.body.message).toMatch(/^clientToken may only contain characters in the range of 33-126/);
    }
    expect(fake.ecs.taskArns()).toHaveLength(1);
  });

  it("limits DescribeTasks to 100 tasks and reports unknown ones as failures", async () => {
    const tooMany = await ecsOp(fake.endpoint, "DescribeTasks", {
      cluster: "default",
      tasks: Array.from({ length: 101 }, (_, i) => `t${i}`),
    });
    expect(tooMany.body.__type).toBe("InvalidParameterException");
    const unknown = await ecsOp(fake.endpoint, "DescribeTasks", { cluster: "default", tasks: ["nope"] });
    expect(unknown.body).toEqual({ tasks: [], failures: [{ arn: "nope", reason: "MISSING" }] });
  });

  it("stops a task with StopTask as UserInitiated with the given reason", async () => {
    fake.ecs.setTaskScript(() => ({ provisioningMs: 0, pendingMs: 0, runMs: Number.POSITIVE_INFINITY }));
    const arn = ((await runTask()).body.tasks as Array<{ taskArn: string }>)[0]?.taskArn as string;
    await ecsOp(fake.endpoint, "StopTask", { cluster: "default", task: arn, reason: "enough" });
    expect(await lastStatus(arn)).toMatchObject({
      lastStatus: "STOPPED",
      stopCode: "UserInitiated",
      stoppedReason: "enough",
    });
  });

  it("accepts only Fargate's cpu/memory pairs for FARGATE task definitions, and 128-196608 CPU units otherwise", async () => {
    const register = (extra: Record<string, unknown>) =>
      ecsOp(fake.endpoint, "RegisterTaskDefinition", {
        family: "sized",
        containerDefinitions: [{ name: "job", image: "busybox" }],
        ...extra,
      });
    const fargate = (cpu: string, memory: string) =>
      register({ requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc", cpu, memory });
    for (const [cpu, memory] of [
      ["256", "512"],
      ["256", "2048"],
      ["512", "3072"],
      ["1024", "8192"],
      ["4096", "30720"],
      ["8192", "20480"],
      ["16384", "122880"],
    ] as const)
      expect((await fargate(cpu, memory)).status, `${cpu}/${memory}`).toBe(200);
    for (const [cpu, memory] of [
      ["1024", "512"],
      ["256", "1536"],
      ["300", "1024"],
      ["8192", "18432"],
      ["16384", "36864"],
      ["4096", "31744"],
    ] as const) {
      const refused = await fargate(cpu, memory);
      expect(refused.body, `${cpu}/${memory}`).toEqual({
        __type: "ClientException",
        message: "Invalid 'cpu' setting for task.",
      });
    }
    expect((await register({ requiresCompatibilities: ["FARGATE"], networkMode: "awsvpc" })).status).toBe(400);
    expect((await register({ requiresCompatibilities: ["EC2"], cpu: "128" })).status).toBe(200);
    expect((await register({ requiresCompatibilities: ["EC2"], cpu: "100" })).body.__type).toBe("ClientException");
    expect((await register({ requiresCompatibilities: ["EC2"], cpu: "196609" })).body.__type).toBe("ClientException");
  });

  it("refuses a Fargate task definition logging with awslogs but without an execution role", async () => {
    const register = (extra: Record<string, unknown>) =>
      ecsOp(fake.endpoint, "RegisterTaskDefinition", {
        family: "logged",
        requiresCompatibilities: ["FARGATE"],
        networkMode: "awsvpc",
        cpu: "256",
        memory: "512",
        containerDefinitions: [
          {
            name: "job",
            image: "busybox",
            logConfiguration: { logDriver: "awslogs", options: { "awslogs-group": "/g" } },
          },
        ],
        ...extra,
      });
    expect((await register({})).body).toEqual({
      __type: "ClientException",
      message: "Fargate requires task definition to have execution role ARN to support log driver awslogs.",
    });
    expect((await register({ executionRoleArn: "arn:aws:iam::123456789012:role/exec" })).status).toBe(200);
  });

  it("limits RunTask overrides to 8192 characters of JSON", async () => {
    const overrides = (size: number) => {
      const shell = { containerOverrides: [{ name: "job", environment: [{ name: "A", value: "" }] }] };
      const value = "x".repeat(size - JSON.stringify(shell).length);
      return { containerOverrides: [{ name: "job", environment: [{ name: "A", value }] }] };
    };
    expect(JSON.stringify(overrides(8192))).toHaveLength(8192);
    expect((await runTask({ overrides: overrides(8192) })).status).toBe(200);
    const refused = await runTask({ overrides: overrides(8193) });
    expect(refused.body).toMatchObject({ __type: "InvalidParameterException", message: expect.stringMatching(/8192/) });
    expect(fake.ecs.taskArns()).toHaveLength(1);
  });

  it("applies ECS's tag rules to RunTask: 50 tags, unique keys, allowed characters, aws: reserved in keys and values", async () => {
    const tags = (n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${i}`, value: "v" }));
    expect((await runTask({ tags: tags(50) })).status).toBe(200);
    for (const bad of [
      tags(51),
      [
        { key: "team", value: "a" },
        { key: "team", value: "b" },
      ],
      [{ key: "aws:team", value: "a" }],
      [{ key: "AWS:team", value: "a" }],
      [{ key: "team", value: "Aws:data" }],
      [{ key: "team", value: "tab\there" }],
      [{ key: "line\nbreak", value: "a" }],
      [{ key: "team", value: "semi;colon" }],
      [{ key: "k".repeat(129), value: "a" }],
      [{ key: "team", value: "v".repeat(257) }],
    ]) {
      const refused = await runTask({ tags: bad });
      expect(refused.body.__type, JSON.stringify(bad).slice(0, 80)).toBe("InvalidParameterException");
    }
    expect((await runTask({ tags: [{ key: "Team Name", value: "ünïcode + - = . _ : / @ 42" }] })).status).toBe(200);
    expect(fake.ecs.taskArns()).toHaveLength(2);
  });

  it("refuses a public IP for tasks that do not run on Fargate", async () => {
    const network = (assignPublicIp: string) => ({
      networkConfiguration: { awsvpcConfiguration: { subnets: ["subnet-1"], assignPublicIp } },
    });
    for (const placement of [
      { launchType: "EC2" },
      { capacityProviderStrategy: [{ capacityProvider: "my-asg" }] },
      {},
    ]) {
      expect((await runTask({ ...placement, ...network("ENABLED") })).body).toEqual({
        __type: "InvalidParameterException",
        message: "Assign public IP is not supported for this launch type.",
      });
      expect((await runTask({ ...placement, ...network("DISABLED") })).status).toBe(200);
    }
    expect((await runTask({ launchType: "FARGATE", ...network("ENABLED") })).status).toBe(200);
    expect(
      (await runTask({ capacityProviderStrategy: [{ capacityProvider: "FARGATE_SPOT" }], ...network("ENABLED") }))
        .status,
    ).toBe(200);
  });

  it("refuses a StopTask reason longer than 255 characters", async () => {
    fake.ecs.setTaskScript(() => ({ runMs: Number.POSITIVE_INFINITY }));
    const arn = ((await runTask()).body.tasks as Array<{ taskArn: string }>)[0]?.taskArn as string;
    const tooLong = await ecsOp(fake.endpoint, "StopTask", { cluster: "default", task: arn, reason: "r".repeat(256) });
    expect(tooLong.body.__type).toBe("InvalidParameterException");
    expect((await lastStatus(arn)).lastStatus).not.toBe("STOPPED");
    const stopped = await ecsOp(fake.endpoint, "StopTask", { cluster: "default", task: arn, reason: "r".repeat(255) });
    expect(stopped.status).toBe(200);
  });

  it("remembers a client token per cluster and for 24 hours", async () => {
    await ecsOp(fake.endpoint, "CreateCluster", { clusterName: "other" });
    const arnOf = (body: Record<string, unknown>) => (body.tasks as Array<{ taskArn: string }>)[0]?.taskArn;
    const first = arnOf((await runTask({ clientToken: "t1" })).body);
    // The same token in another cluster is another request, not a conflict.
    const other = await runTask({ cluster: "other", clientToken: "t1" });
    expect(other.status).toBe(200);
    expect(arnOf(other.body)).toContain(":task/other/");
    // The fake clock also follows the wall clock, so the steps leave a minute for the test to run.
    fake.clock.advance(24 * 60 * 60 * 1000 - 60_000);
    expect(arnOf((await runTask({ clientToken: "t1" })).body)).toBe(first);
    fake.clock.advance(60_000);
    const later = arnOf((await runTask({ clientToken: "t1" })).body);
    expect(later).not.toBe(first);
    expect(fake.ecs.taskArns()).toHaveLength(3);
  });

  it("answers a task just started as MISSING while DescribeTasks lags behind RunTask", async () => {
    fake.ecs.setDescribeTasksLag(5000);
    const arn = ((await runTask()).body.tasks as Array<{ taskArn: string }>)[0]?.taskArn as string;
    const early = await ecsOp(fake.endpoint, "DescribeTasks", { cluster: "default", tasks: [arn] });
    expect(early.body).toEqual({ tasks: [], failures: [{ arn, reason: "MISSING" }] });
    fake.clock.advance(5000);
    expect((await lastStatus(arn)).taskArn).toBe(arn);
  });
});

describe("the ECS fake's service tags", () => {
  async function createService(tags: Array<{ key: string; value: string }>) {
    const out = await ecsOp(fake.endpoint, "CreateService", {
      cluster: "default",
      serviceName: "web",
      taskDefinition: "job",
      desiredCount: 1,
      tags,
    });
    return (out.body.service as { serviceArn: string }).serviceArn;
  }
  const describeService = async (include?: string[]) =>
    (
      (
        await ecsOp(fake.endpoint, "DescribeServices", {
          cluster: "default",
          services: ["web"],
          ...(include ? { include } : {}),
        })
      ).body.services as Array<Record<string, unknown>>
    )[0] as Record<string, unknown>;

  it("answers tags only when DescribeServices includes TAGS", async () => {
    await createService([{ key: "team", value: "a" }]);
    expect(await describeService()).not.toHaveProperty("tags");
    expect((await describeService(["TAGS"])).tags).toEqual([{ key: "team", value: "a" }]);
  });

  it("adds and overwrites with TagResource, removes with UntagResource, and holds the result to the tag rules", async () => {
    const arn = await createService([
      { key: "team", value: "a" },
      { key: "tier", value: "web" },
    ]);
    await ecsOp(fake.endpoint, "TagResource", { resourceArn: arn, tags: [{ key: "team", value: "b" }] });
    await ecsOp(fake.endpoint, "UntagResource", { resourceArn: arn, tagKeys: ["tier", "absent"] });
    expect((await describeService(["TAGS"])).tags).toEqual([{ key: "team", value: "b" }]);

    const many = Array.from({ length: 50 }, (_, i) => ({ key: `k${i}`, value: "v" }));
    const tooMany = await ecsOp(fake.endpoint, "TagResource", { resourceArn: arn, tags: many });
    expect(tooMany.status).toBe(400);
    expect(tooMany.body.message).toMatch(/more than 50/);
    const reserved = await ecsOp(fake.endpoint, "TagResource", {
      resourceArn: arn,
      tags: [{ key: "owner", value: "aws:me" }],
    });
    expect(reserved.body.message).toMatch(/aws: prefix is reserved/);
    const unknown = await ecsOp(fake.endpoint, "TagResource", {
      resourceArn: arn.replace("/web", "/other"),
      tags: [{ key: "a", value: "b" }],
    });
    expect(unknown.body.__type).toMatch(/ResourceNotFoundException/);
    expect((await describeService(["TAGS"])).tags).toEqual([{ key: "team", value: "b" }]);
  });

  it("refuses CreateService tags that break the tag rules", async () => {
    const out = await ecsOp(fake.endpoint, "CreateService", {
      cluster: "default",
      serviceName: "web",
      taskDefinition: "job",
      tags: [{ key: "aws:owner", value: "x" }],
    });
    expect(out.status).toBe(400);
    expect(out.body.message).toMatch(/aws: prefix is reserved/);
  });
});

describe("the ECS fake's StopTask", () => {
  it("sends SIGTERM, then SIGKILL after the container definition's stopTimeout, through STOPPING and DEPROVISIONING", async () => {
    await ecsOp(fake.endpoint, "RegisterTaskDefinition", {
      family: "patient",
      containerDefinitions: [{ name: "job", image: "busybox", stopTimeout: 90 }],
    });
    fake.ecs.setTaskScript(() => ({
      runMs: Number.POSITIVE_INFINITY,
      exitAfterSigtermMs: null,
      deprovisioningMs: 5_000,
    }));
    const arn = ((await runTask({ taskDefinition: "patient" })).body.tasks as Array<{ taskArn: string }>)[0]
      ?.taskArn as string;
    fake.clock.advance(1_000);
    await ecsOp(fake.endpoint, "StopTask", { cluster: "default", task: arn, reason: "enough" });
    // The fake's clock also moves with real time: each step leaves a second to spare.
    fake.clock.advance(88_000);
    expect(await lastStatus(arn)).toMatchObject({ lastStatus: "STOPPING", desiredStatus: "STOPPED" });
    fake.clock.advance(2_000);
    expect((await lastStatus(arn)).lastStatus).toBe("DEPROVISIONING");
    fake.clock.advance(5_000);
    const stopped = await lastStatus(arn);
    expect(stopped).toMatchObject({ lastStatus: "STOPPED", stopCode: "UserInitiated", stoppedReason: "enough" });
    expect((stopped.containers as Array<{ exitCode?: number }>)[0]?.exitCode).toBe(137);
  });

  it("waits 30 s by default, and reports the container's own exit code when it ends on SIGTERM", async () => {
    fake.ecs.setTaskScript(() => ({ runMs: Number.POSITIVE_INFINITY, exitAfterSigtermMs: 3_000, sigtermExitCode: 0 }));
    const graceful = ((await runTask()).body.tasks as Array<{ taskArn: string }>)[0]?.taskArn as string;
    fake.ecs.setTaskScript(() => ({ runMs: Number.POSITIVE_INFINITY, exitAfterSigtermMs: null }));
    const stubborn = ((await runTask()).body.tasks as Array<{ taskArn: string }>)[0]?.taskArn as string;
    fake.clock.advance(1_000);
    for (const task of [graceful, stubborn])
      await ecsOp(fake.endpoint, "StopTask", { cluster: "default", task, reason: "stop" });
    fake.clock.advance(4_000);
    const exitCode = async (arn: string) =>
      ((await lastStatus(arn)).containers as Array<{ exitCode?: number }>)[0]?.exitCode;
    expect((await lastStatus(graceful)).lastStatus).toBe("STOPPED");
    expect(await exitCode(graceful)).toBe(0);
    expect((await lastStatus(stubborn)).lastStatus).toBe("STOPPING");
    fake.clock.advance(26_000);
    expect(await exitCode(stubborn)).toBe(137);
  });

  it("stops a task that has not started without an exit code", async () => {
    fake.ecs.setTaskScript(() => ({ provisioningMs: 60_000 }));
    const arn = ((await runTask()).body.tasks as Array<{ taskArn: string }>)[0]?.taskArn as string;
    await ecsOp(fake.endpoint, "StopTask", { cluster: "default", task: arn });
    const stopped = await lastStatus(arn);
    expect(stopped.lastStatus).toBe("STOPPED");
    expect((stopped.containers as Array<{ exitCode?: number }>)[0]).not.toHaveProperty("exitCode");
    expect(stopped).not.toHaveProperty("startedAt");
  });
});

describe("the ECS fake's IAM checks", () => {
  it("refuses tags on CreateService without ecs:TagResource, and a task role without iam:PassRole, in IAM's words", async () => {
    fake.ecs.denyAction("ecs:TagResource");
    const tagged = await ecsOp(fake.endpoint, "CreateService", {
      cluster: "default",
      serviceName: "web",
      taskDefinition: "job",
      tags: [{ key: "team", value: "a" }],
    });
    expect(tagged.body.__type).toMatch(/AccessDeniedException/);
    expect(tagged.body.message).toBe(
      "User: arn:aws:iam::123456789012:user/test is not authorized to perform: ecs:TagResource on resource: arn:aws:ecs:us-east-1:123456789012:service/default/web because no identity-based policy allows the ecs:TagResource action",
    );
    const untagged = await ecsOp(fake.endpoint, "CreateService", {
      cluster: "default",
      serviceName: "web",
      taskDefinition: "job",
    });
    expect(untagged.status).toBe(200);

    fake.ecs.denyAction("iam:PassRole");
    const role = "arn:aws:iam::123456789012:role/app";
    const registered = await ecsOp(fake.endpoint, "RegisterTaskDefinition", {
      family: "with-role",
      taskRoleArn: role,
      containerDefinitions: [{ name: "job", image: "busybox" }],
    });
    expect(registered.body.message).toMatch(`not authorized to perform: iam:PassRole on resource: ${role}`);
    const overridden = await runTask({ overrides: { taskRoleArn: role } });
    expect(overridden.body.message).toMatch(`iam:PassRole on resource: ${role}`);
    expect((await runTask()).status).toBe(200);
  });
});
