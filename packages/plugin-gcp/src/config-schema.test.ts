import { create } from "@bufbuild/protobuf";
import { InvalidArgumentError, JobTargetSchema } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { gcpConfigSchema, gcpTargetSchema, parseGcpConfig, resolveCloudRunTarget } from "./config-schema.js";

describe("parseGcpConfig", () => {
  it("applies the defaults: no retries, Cloud Run's task timeout, finished jobs deleted", () => {
    expect(parseGcpConfig('{"project":"my-project","region":"europe-west1"}')).toMatchObject({
      project: "my-project",
      region: "europe-west1",
      maxRetries: 0,
      taskTimeoutSeconds: 600,
      deleteFinishedJobs: true,
      logReadsPerMinute: 50,
      insecureEndpoint: false,
    });
  });

  it("publishes the defaults it applies, so a host or `flotilla plugin inspect` shows them", () => {
    expect(gcpConfigSchema.properties.maxRetries.default).toBe(0);
    expect(gcpConfigSchema.properties.taskTimeoutSeconds.default).toBe(600);
    expect(gcpConfigSchema.properties.deleteFinishedJobs.default).toBe(true);
  });

  it("reads a plain-text endpoint for a local fake", () => {
    const config = parseGcpConfig(
      JSON.stringify({
        project: "my-project",
        region: "us-central1",
        endpoint: "127.0.0.1:8085",
        insecureEndpoint: true,
      }),
    );
    expect(config).toMatchObject({ endpoint: "127.0.0.1:8085", insecureEndpoint: true });
  });

  it.each([
    ["{}", /project: is required.*region: is required|region: is required.*project: is required/],
    ['{"project":"My_Project","region":"europe-west1"}', /project/],
    ['{"project":"my-project","region":"europe-west1","maxRetries":11}', /maxRetries/],
    ['{"project":"my-project","region":"europe-west1","insecureEndpoint":true}', /insecureEndpoint: needs endpoint/],
    [
      '{"project":"my-project","region":"europe-west1","endpoint":"nohost"}',
      /endpoint: a string of 6 characters.*HOST:PORT/,
    ],
    [
      '{"project":"my-project","region":"europe-west1","endpoint":"h:70000"}',
      /endpoint: port 70000 is outside 1-65535/,
    ],
    ["{nope", /not valid JSON/],
  ])("refuses %s naming the key", (json, message) => {
    expect(() => parseGcpConfig(json)).toThrow(message);
    expect(() => parseGcpConfig(json)).toThrow(InvalidArgumentError);
  });
});

it("reports every bad key at once, each with what is expected", () => {
  const attempt = () => parseGcpConfig('{"project":"P","region":"europe-west1","endpoint":"nohost","maxRetrys":1}');
  expect(attempt).toThrow(/project: .*e\.g\. my-project/);
  expect(attempt).toThrow(/endpoint: .*e\.g\. "127\.0\.0\.1:8085"/);
  expect(attempt).toThrow(/maxRetrys: is not a known key; known keys are: .*maxRetries/);
});

it("never echoes a value, e.g. a token pasted into the endpoint key", () => {
  const attempt = () =>
    parseGcpConfig('{"project":"my-project","region":"europe-west1","endpoint":"ya29.s3cr3t-access-token"}');
  expect(attempt).toThrow(/endpoint/);
  expect(attempt).not.toThrow(/s3cr3t/);
});

it("says where broken JSON breaks without quoting it (the text may hold a secret)", () => {
  const broken = '{"project":"p","region":"europe-west1","token": s3cr3t-value}';
  expect(() => parseGcpConfig(broken)).toThrow(/gcp provider config is not valid JSON/);
  expect(() => parseGcpConfig(broken)).not.toThrow(/s3cr3t/);
});

describe("resolveCloudRunTarget", () => {
  const config = parseGcpConfig('{"project":"my-project","region":"europe-west1","serviceAccount":"a@b.c"}');

  it("takes the target's fields over the provider's", () => {
    expect(
      resolveCloudRunTarget(
        create(JobTargetSchema, {
          kind: { case: "gcpCloudRun", value: { region: "us-east1", vpcConnector: "network:default" } },
        }),
        config,
      ),
    ).toEqual({ project: "my-project", region: "us-east1", serviceAccount: "a@b.c", vpcConnector: "network:default" });
  });

  it("refuses a target of another cloud, naming both and the fix", () => {
    expect(() =>
      resolveCloudRunTarget(create(JobTargetSchema, { kind: { case: "awsEcs", value: {} } }), config),
    ).toThrow(
      /runs jobs with target\.gcp_cloud_run or no target, got target\.aws_ecs; run this job through the plugin that owns target\.aws_ecs/,
    );
  });

  it("publishes the target as JobTarget's protobuf JSON form", () => {
    expect(Object.keys((gcpTargetSchema as { properties: object }).properties)).toEqual(["gcpCloudRun"]);
  });

  it("refuses a bad region in the target", () => {
    expect(() =>
      resolveCloudRunTarget(
        create(JobTargetSchema, { kind: { case: "gcpCloudRun", value: { region: "Europe West" } } }),
        config,
      ),
    ).toThrow(/target.gcp_cloud_run.region/);
  });
});
