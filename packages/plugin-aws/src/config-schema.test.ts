import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError, JobTargetSchema } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { awsConfigSchema, parseAwsConfig, resolveEcsTarget } from "./config-schema.js";

const base = { region: "eu-west-1", subnets: ["subnet-0123456789abcdef0"] };

describe("parseAwsConfig", () => {
  it("applies defaults to a minimal config", () => {
    const config = parseAwsConfig(JSON.stringify({ region: "eu-west-1" }));
    expect(config).toMatchObject({
      region: "eu-west-1",
      cluster: "default",
      logGroup: "/flotilla/jobs",
      maxAttempts: 3,
      assignPublicIp: false,
      logDrainGraceMs: 10_000,
      logRequestsPerSecond: 20,
    });
  });

  it.each([
    [{}, /region: is required: AWS region/],
    [{ region: "Ireland" }, /region: a string of 7 characters does not match/],
    [{ ...base, subnets: ["subnet-1", "nope"] }, /subnets\[0\]: .*does not match.*subnets\[1\]/],
    [{ ...base, regoin: "x" }, /regoin: is not a known key; known keys are: region, cluster/],
    [{ ...base, maxAttempts: 0 }, /maxAttempts: must be >= 1/],
    [{ ...base, launchType: "LAMBDA" }, /launchType: must be one of "FARGATE", "EC2", "EXTERNAL"/],
    [
      { ...base, launchType: "FARGATE", capacityProvider: "FARGATE_SPOT" },
      /capacityProvider: cannot be combined with launchType/,
    ],
    [{ ...base, externalId: "abc" }, /roleArn: is required when roleSessionName or externalId is set/],
    [{ ...base, executionRoleArn: "ecsTaskExecutionRole" }, /executionRoleArn: .*does not match/],
    [{ ...base, logDrainGraceMs: -1 }, /logDrainGraceMs: must be >= 0/],
    [{ ...base, logRequestsPerSecond: 0 }, /logRequestsPerSecond: must be >= 1/],
  ])("rejects %j naming the key and the reason", (config, message) => {
    expect(() => parseAwsConfig(JSON.stringify(config))).toThrow(InvalidArgumentError);
    expect(() => parseAwsConfig(JSON.stringify(config))).toThrow(message);
  });

  it("rejects text that is not JSON", () => {
    expect(() => parseAwsConfig("{region:")).toThrow(/not valid JSON/);
  });

  it("publishes a JSON Schema whose keys are the ones parsing accepts", () => {
    expect(awsConfigSchema.required).toEqual(["region"]);
    expect(Object.keys(awsConfigSchema.properties)).toContain("roleArn");
  });
});

describe("resolveEcsTarget", () => {
  const config = parseAwsConfig(JSON.stringify({ ...base, cluster: "main", launchType: "FARGATE" }));

  it("uses the provider defaults when the JobSpec has no target", () => {
    expect(resolveEcsTarget(undefined, config)).toMatchObject({
      region: "eu-west-1",
      cluster: "main",
      launchType: "FARGATE",
      fargate: true,
    });
  });

  it("lets the target override cluster, region and placement", () => {
    const target = create(JobTargetSchema, {
      kind: { case: "awsEcs", value: { cluster: "batch", region: "us-east-1", capacityProvider: "FARGATE_SPOT" } },
    });
    const resolved = resolveEcsTarget(target, config);
    expect(resolved).toMatchObject({
      region: "us-east-1",
      cluster: "batch",
      capacityProvider: "FARGATE_SPOT",
      fargate: true,
    });
    expect(resolved.launchType).toBeUndefined();
  });

  it("rejects another cloud's target naming the kind it needs", () => {
    const target = create(JobTargetSchema, { kind: { case: "azureContainerInstances", value: {} } });
    expect(() => resolveEcsTarget(target, config)).toThrow(
      /runs jobs with target.aws_ecs or no target, got target.azure_container_instances/,
    );
  });

  it("rejects Fargate without subnets, and launch type with capacity provider", () => {
    const noSubnets = parseAwsConfig(JSON.stringify({ region: "eu-west-1" }));
    expect(() => resolveEcsTarget(undefined, noSubnets)).toThrow(
      /target.aws_ecs.subnets: Fargate tasks need at least one subnet/,
    );
    const both = create(JobTargetSchema, {
      kind: { case: "awsEcs", value: { launchType: "EC2", capacityProvider: "cp" } },
    });
    expect(() => resolveEcsTarget(both, config)).toThrow(/capacity_provider: cannot be combined with launch_type/);
    const bad = create(JobTargetSchema, { kind: { case: "awsEcs", value: { subnets: ["sub-1"] } } });
    expect(() => resolveEcsTarget(bad, config)).toThrow(/target.aws_ecs.subnets\[0\]/);
  });
});
