import { ECSClient } from "@aws-sdk/client-ecs";
import { create } from "@bufbuild/protobuf";
import { AwsFaults, type FakeAws, startFakeAws } from "@flotilla/fakes";
import { InvalidArgumentError, JobSpecSchema, PermissionDeniedError } from "@flotilla/protocol";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAwsConfig, resolveEcsTarget } from "./config-schema.js";
import { secretValueFrom, TaskDefinitionRegistry, taskDefinitionFor } from "./task-definition.js";

const config = parseAwsConfig(
  JSON.stringify({
    region: "eu-west-1",
    subnets: ["subnet-0123456789abcdef0"],
    executionRoleArn: "arn:aws:iam::123456789012:role/exec",
  }),
);
const target = resolveEcsTarget(undefined, config);
const spec = (over: Record<string, unknown> = {}) => create(JobSpecSchema, { name: "j", image: "busybox", ...over });

describe("secretValueFrom", () => {
  it("maps each reference form to the valueFrom ECS resolves", () => {
    expect(
      secretValueFrom(
        "A",
        "secret://arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
        "eu-west-1",
        undefined,
      ),
    ).toBe("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf");
    expect(
      secretValueFrom("A", "secret://arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db", "eu-west-1", undefined),
    ).toBe("arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db");
    expect(secretValueFrom("A", "secret://ssm//prod/db", "eu-west-1", undefined)).toBe("/prod/db");
    expect(secretValueFrom("A", "secret://secretsmanager/db:password::", "cn-north-1", "123456789012")).toBe(
      "arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:db:password::",
    );
  });

  it("rejects values and unknown stores naming the variable but not the content", () => {
    const attempt = () => secretValueFrom("DB_PASSWORD", "hunter2", "eu-west-1", undefined);
    expect(attempt).toThrow(InvalidArgumentError);
    expect(attempt).toThrow(/secret_env\["DB_PASSWORD"\]/);
    expect(attempt).not.toThrow(/hunter2/);
    expect(() => secretValueFrom("X", "secret://vault/kv/x", "eu-west-1", undefined)).toThrow(
      /secret store "vault" is not one ECS resolves/,
    );
    expect(() => secretValueFrom("X", "secret://arn:aws:s3:::bucket/key", "eu-west-1", undefined)).toThrow(
      /secret store "arn" is not one ECS resolves/,
    );
    expect(() => secretValueFrom("X", "secret://ssm/", "eu-west-1", undefined)).toThrow(/names store "ssm" but no key/);
    expect(() => secretValueFrom("X", "secret://secretsmanager/db", "eu-west-1", undefined)).toThrow(
      /needs the provider config key accountId/,
    );
  });
});

describe("taskDefinitionFor", () => {
  it("names the family from the content: same content, same family; different content, different family", () => {
    const a = taskDefinitionFor(spec(), target, config);
    expect(a.family).toBe(
      taskDefinitionFor(spec({ name: "other", args: ["x"], env: { A: "1" } }), target, config).family,
    );
    expect(a.family).not.toBe(taskDefinitionFor(spec({ image: "alpine" }), target, config).family);
    expect(a.family).not.toBe(taskDefinitionFor(spec({ command: ["/bin/sh"] }), target, config).family);
  });

  it("chooses the smallest Fargate size that covers both the CPU and the memory asked for", () => {
    const size = (resources: Record<string, number> | undefined) =>
      taskDefinitionFor(spec(resources ? { resources } : {}), target, config);
    expect(size(undefined)).toMatchObject({ cpu: "256", memory: "512", requiresCompatibilities: ["FARGATE"] });
    // 1 vCPU without memory: Fargate's smallest memory for 1024 CPU units is 2 GiB, not 512 MiB.
    expect(size({ cpuMillicores: 1000 })).toMatchObject({ cpu: "1024", memory: "2048" });
    expect(size({ cpuMillicores: 300, memoryMib: 2048 })).toMatchObject({ cpu: "512", memory: "2048" });
    // More memory than 256 CPU units allow moves up to the next CPU size.
    expect(size({ cpuMillicores: 250, memoryMib: 3000 })).toMatchObject({ cpu: "512", memory: "3072" });
    expect(size({ cpuMillicores: 250, memoryMib: 600 })).toMatchObject({ cpu: "256", memory: "1024" });
    // 8 vCPU sizes go in 4 GiB steps, 16 vCPU in 8 GiB steps.
    expect(size({ cpuMillicores: 5000, memoryMib: 17_000 })).toMatchObject({ cpu: "8192", memory: "20480" });
    expect(size({ memoryMib: 62_000 })).toMatchObject({ cpu: "16384", memory: "65536" });
  });

  it("refuses what no Fargate size offers, listing the sizes", () => {
    for (const resources of [{ cpuMillicores: 20_000 }, { memoryMib: 130_000 }]) {
      const attempt = () => taskDefinitionFor(spec({ resources }), target, config);
      expect(attempt).toThrow(InvalidArgumentError);
      expect(attempt).toThrow(/more than any Fargate task size offers/);
      expect(attempt).toThrow(/256 CPU: 512, 1024 or 2048 MiB; 512 CPU: 1024-4096 MiB in steps of 1024;/);
      expect(attempt).toThrow(/16384 CPU: 32768-122880 MiB in steps of 8192/);
    }
  });

  it("gives an EC2 task at least 128 CPU units", () => {
    const ec2 = resolveEcsTarget(
      undefined,
      parseAwsConfig(JSON.stringify({ region: "eu-west-1", launchType: "EC2", subnets: ["subnet-0123456789abcdef0"] })),
    );
    expect(taskDefinitionFor(spec({ resources: { cpuMillicores: 100 } }), ec2, config)).toMatchObject({
      cpu: "128",
      requiresCompatibilities: ["EC2"],
    });
    expect(taskDefinitionFor(spec({ resources: { cpuMillicores: 1000 } }), ec2, config)).toMatchObject({ cpu: "1024" });
    expect(() => taskDefinitionFor(spec({ resources: { cpuMillicores: 200_000 } }), ec2, config)).toThrow(
      /more than ECS allows for a task on EC2/,
    );
  });

  it("needs an execution role on Fargate, where the awslogs driver writes with it", () => {
    const noRole = (launchType: string) =>
      resolveEcsTarget(
        undefined,
        parseAwsConfig(JSON.stringify({ region: "eu-west-1", launchType, subnets: ["subnet-0123456789abcdef0"] })),
      );
    const attempt = () => taskDefinitionFor(spec(), noRole("FARGATE"), config);
    expect(attempt).toThrow(InvalidArgumentError);
    expect(attempt).toThrow(
      /Fargate tasks send their logs to CloudWatch with the task execution role, and none is set; set executionRoleArn/,
    );
    // On EC2 the container instance's role writes the logs.
    expect(taskDefinitionFor(spec(), noRole("EC2"), config).executionRoleArn).toBeUndefined();
  });

  it("sends logs to CloudWatch with the flotilla stream prefix and needs an execution role for secrets", () => {
    const definition = taskDefinitionFor(spec(), target, config);
    expect(definition.containerDefinitions?.[0]?.logConfiguration).toEqual({
      logDriver: "awslogs",
      options: {
        "awslogs-group": "/flotilla/jobs",
        "awslogs-region": "eu-west-1",
        "awslogs-stream-prefix": "flotilla",
        "awslogs-create-group": "true",
      },
    });
    const noRole = resolveEcsTarget(
      undefined,
      parseAwsConfig(JSON.stringify({ region: "eu-west-1", subnets: ["subnet-0123456789abcdef0"] })),
    );
    expect(() => taskDefinitionFor(spec({ secretEnv: { A: "secret://ssm/a" } }), noRole, config)).toThrow(
      /set executionRoleArn/,
    );
  });
});

describe("TaskDefinitionRegistry", () => {
  let fake: FakeAws;
  let ecs: ECSClient;
  beforeAll(async () => {
    fake = await startFakeAws();
    ecs = new ECSClient({
      region: "eu-west-1",
      endpoint: fake.endpoint,
      credentials: { accessKeyId: "a", secretAccessKey: "b" },
      maxAttempts: 1,
    });
  });
  afterAll(async () => {
    ecs.destroy();
    await fake.close();
  });

  it("registers concurrent requests for the same content once", async () => {
    const registry = new TaskDefinitionRegistry();
    const input = taskDefinitionFor(spec({ image: "concurrent" }), target, config);
    const arns = await Promise.all([1, 2, 3].map(() => registry.ensure(ecs, "eu-west-1", input)));
    expect(new Set(arns).size).toBe(1);
    expect(registry.registrations).toBe(1);
  });

  it("registers every size it chooses where the fake, following Fargate's size table, accepts it", async () => {
    const registry = new TaskDefinitionRegistry();
    for (const resources of [{ cpuMillicores: 1000 }, { cpuMillicores: 250, memoryMib: 3000 }, { memoryMib: 62_000 }]) {
      const input = taskDefinitionFor(spec({ image: "sized", resources }), target, config);
      await expect(registry.ensure(ecs, "eu-west-1", input)).resolves.toMatch(/task-definition\/flotilla-/);
    }
  });

  it("translates a refused registration and retries it on the next call", async () => {
    const registry = new TaskDefinitionRegistry();
    const input = taskDefinitionFor(spec({ image: "denied" }), target, config);
    fake.faults.inject("RegisterTaskDefinition", AwsFaults.accessDenied);
    await expect(registry.ensure(ecs, "eu-west-1", input)).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(registry.ensure(ecs, "eu-west-1", input)).resolves.toMatch(/task-definition\/flotilla-/);
  });
});
