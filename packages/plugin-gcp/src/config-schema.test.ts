import { InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { parseGcpConfig, resolveCloudRunTarget } from "./config-schema.js";

describe("parseGcpConfig", () => {
  it("applies the defaults: no retries, Cloud Run's task timeout, finished jobs deleted", () => {
    expect(parseGcpConfig('{"project":"my-project","region":"europe-west1"}')).toMatchObject({
      project: "my-project",
      region: "europe-west1",
      maxRetries: 0,
      taskTimeoutSeconds: 600,
      deleteFinishedJobs: true,
      logReadsPerMinute: 50,
    });
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
    expect(config.endpoint).toEqual({ host: "127.0.0.1", port: 8085, insecure: true });
  });

  it.each([
    ["{}", /project: is required.*region: is required|region: is required.*project: is required/],
    ['{"project":"My_Project","region":"europe-west1"}', /project/],
    ['{"project":"my-project","region":"europe-west1","maxRetries":11}', /maxRetries/],
    ['{"project":"my-project","region":"europe-west1","insecureEndpoint":true}', /insecureEndpoint: needs endpoint/],
    ['{"project":"my-project","region":"europe-west1","endpoint":"nohost"}', /endpoint "nohost" is not HOST:PORT/],
    ["{nope", /not valid JSON/],
  ])("refuses %s naming the key", (json, message) => {
    expect(() => parseGcpConfig(json)).toThrow(message);
    expect(() => parseGcpConfig(json)).toThrow(InvalidArgumentError);
  });
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
        { kind: { case: "gcpCloudRun", value: { region: "us-east1", vpcConnector: "network:default" } } } as never,
        config,
      ),
    ).toEqual({ project: "my-project", region: "us-east1", serviceAccount: "a@b.c", vpcConnector: "network:default" });
  });

  it("refuses a bad region in the target", () => {
    expect(() =>
      resolveCloudRunTarget({ kind: { case: "gcpCloudRun", value: { region: "Europe West" } } } as never, config),
    ).toThrow(/target.gcp_cloud_run.region/);
  });
});
