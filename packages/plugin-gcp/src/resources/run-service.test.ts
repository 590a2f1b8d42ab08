/**
 * The run.service resource type through the plugin's ResourceDriver and DriftDetector, with the real
 * `@google-cloud/run` ServicesClient against the GCP fake's Services API.
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
  InvalidArgumentError,
  NotFoundError,
  ReadResourceRequestSchema,
  ScaleResourceRequestSchema,
  SensitiveKeysRequestSchema,
  TroubleshootResourceRequestSchema,
  UpdateResourceRequestSchema,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type GcpHarness, startGcpHarness } from "../fixtures/harness.js";

let h: GcpHarness;
const ref = { type: "run.service", name: "web" };
const serviceName = "projects/flotilla-test/locations/us-central1/services/web";
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const parse = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;
const webConfig = {
  image: "us-docker.pkg.dev/cloudrun/container/hello",
  env: { GREETING: "hi", API_TOKEN: "tok-s3cr3t-value" },
  secretEnv: { DB_PASSWORD: "secret://gcp-sm/db-password" },
  port: 8081,
  cpu: "1",
  memory: "1Gi",
  minInstances: 1,
  maxInstances: 5,
  labels: { team: "web" },
};

beforeEach(async () => {
  h = await startGcpHarness();
});
afterEach(async () => {
  await h.close();
});

async function createWeb(config: Record<string, unknown> = webConfig) {
  const out = await h.driver.createResource(
    create(CreateResourceRequestSchema, { ref, configJson: json(config) }),
    h.context,
  );
  return out.state;
}
/** The service as a ServicesClient of another caller sees it. */
async function service() {
  const client = await h.plugin.runtime().clients.services();
  return (await client.getService({ name: serviceName }))[0];
}
const health = async () => h.driver.checkResourceHealth(create(CheckResourceHealthRequestSchema, { ref }), h.context);

describe("run.service", () => {
  it("creates a Cloud Run service from the config, reconciling first, then healthy once its revision is ready", async () => {
    h.fake.services.setReconcileMs(60_000);
    const state = await createWeb();
    expect(state?.ref?.providerId).toBe(serviceName);
    expect(state?.status).toBe("RECONCILING");
    expect((await health()).healthy).toBe(false);
    expect((await health()).message).toMatch(/^reconciling: deploying revision web-00001-/);
    h.fake.clock.advance(60_000);
    const ready = await health();
    expect(ready.healthy).toBe(true);
    expect(ready.message).toMatch(
      /^ready: serving revision web-00001-\w+ at https:\/\/web-.*\.a\.run\.app; instances min 1, max 5$/,
    );
    const written = await service();
    const container = written.template?.containers?.[0];
    expect(container).toMatchObject({
      image: webConfig.image,
      ports: [expect.objectContaining({ containerPort: 8081 })],
      resources: expect.objectContaining({ limits: { cpu: "1", memory: "1024Mi" } }),
    });
    expect(container?.env).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "GREETING", value: "hi" }),
        expect.objectContaining({
          name: "DB_PASSWORD",
          valueSource: expect.objectContaining({
            secretKeyRef: expect.objectContaining({ secret: "db-password", version: "latest" }),
          }),
        }),
      ]),
    );
    expect(written.scaling).toMatchObject({ minInstanceCount: 1, maxInstanceCount: 5 });
    expect(written.labels).toEqual({ team: "web", "managed-by": "flotilla-resource" });
  });

  it("reads the service back as its config, with its URL and revisions as outputs", async () => {
    await createWeb();
    h.fake.clock.advance(1_000); // the first revision is ready
    const { state } = await h.driver.readResource(create(ReadResourceRequestSchema, { ref }), h.context);
    expect(parse(state?.configJson)).toMatchObject({
      image: webConfig.image,
      env: webConfig.env,
      secretEnv: { DB_PASSWORD: "secret://gcp-sm/db-password/latest" },
      memory: "1024Mi",
      cpu: "1",
      minInstances: 1,
      maxInstances: 5,
      ingress: "all",
      labels: { team: "web" },
      project: "flotilla-test",
      region: "us-central1",
    });
    expect(parse(state?.outputsJson)).toMatchObject({
      uri: expect.stringMatching(/^https:\/\/web-/),
      latestReadyRevision: expect.stringMatching(/\/revisions\/web-00001-/),
      generation: 1,
      observedGeneration: 1,
    });
    await expect(
      h.driver.readResource(create(ReadResourceRequestSchema, { ref: { ...ref, name: "absent" } }), h.context),
    ).rejects.toBeInstanceOf(NotFoundError);
  });

  it("refuses a bad config before any call, naming the keys and the fix, and a second create as AlreadyExists", async () => {
    h.fake.calls.reset();
    for (const [config, message] of [
      [{}, /image: is required/],
      [{ image: "i", minInstances: 2 }, /maxInstances: is required when minInstances is set .* set it, e.g. to 100/],
      [{ image: "i", minInstances: 6, maxInstances: 5 }, /minInstances: must not be larger than maxInstances/],
      [{ image: "i", maxInstances: 2_147_483_648 }, /maxInstances: must be <= 2147483647/],
      [{ image: "i", secretEnv: { A: "secret://env/A" } }, /secretEnv/],
      [{ image: "i", labels: { Team: "x" } }, /run.service config labels\["Team"\]: Google Cloud label keys/],
      [{ image: "i", imagePullSecret: "x" }, /imagePullSecret: is not a known key/],
    ] as const) {
      const attempt = createWeb(config as Record<string, unknown>);
      await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
      await expect(createWeb(config as Record<string, unknown>)).rejects.toThrow(message);
    }
    await expect(
      h.driver.createResource(
        create(CreateResourceRequestSchema, { ref: { ...ref, name: "Web_1" }, configJson: json({ image: "i" }) }),
        h.context,
      ),
    ).rejects.toThrow(/ResourceRef.name: a Cloud Run service name is a lowercase letter/);
    expect(h.fake.calls.snapshot()).toEqual({});
    await createWeb();
    await expect(createWeb()).rejects.toBeInstanceOf(AlreadyExistsError);
  });

  it("updates in place as a new revision, keeps serving the old one until it is ready, and refuses a region change", async () => {
    const created = await createWeb();
    h.fake.clock.advance(1_000); // the first revision is ready
    h.fake.services.setReconcileMs(60_000);
    const { state } = await h.driver.updateResource(
      create(UpdateResourceRequestSchema, {
        ref: created?.ref,
        configJson: json({ ...webConfig, image: "gcr.io/p/web:2", labels: {} }),
      }),
      h.context,
    );
    expect(parse(state?.configJson)).toMatchObject({ image: "gcr.io/p/web:2", labels: {} });
    expect((await service()).labels).toEqual({ "managed-by": "flotilla-resource" });
    const during = await health();
    expect(during.message).toMatch(/deploying revision web-00002-\w+, serving web-00001-/);
    h.fake.clock.advance(60_000);
    expect((await health()).message).toMatch(/serving revision web-00002-/);
    await expect(
      h.driver.updateResource(
        create(UpdateResourceRequestSchema, {
          ref: created?.ref,
          configJson: json({ ...webConfig, region: "europe-west1" }),
        }),
        h.context,
      ),
    ).rejects.toThrow(/\/region cannot change in place; delete the service and create it again/);
  });

  it("does not overwrite a change someone else made between its read and its write", async () => {
    await createWeb();
    const current = await service();
    // Another caller changes the service; the plugin's next write carries the etag it reads itself,
    // so it succeeds; a write with the stale etag (what a blind overwrite would be) is refused.
    const client = await h.plugin.runtime().clients.services();
    await client.updateService({ service: { ...current, labels: { team: "other" } } });
    await h.driver.updateResource(create(UpdateResourceRequestSchema, { ref, configJson: json(webConfig) }), h.context);
    await expect(client.updateService({ service: { ...current, labels: { team: "stale" } } })).rejects.toMatchObject({
      code: 10,
    });
    expect((await service()).labels).toEqual({ team: "web", "managed-by": "flotilla-resource" });
  });

  it("diffs the desired config against the service, masking env values and flagging a region change as a replacement", async () => {
    const created = await createWeb();
    const { changed, changes } = await h.driver.diffResource(
      create(DiffResourceRequestSchema, {
        ref: created?.ref,
        desiredConfigJson: json({
          image: webConfig.image,
          memory: "1024Mi",
          cpu: "1000m",
          secretEnv: { DB_PASSWORD: "secret://gcp-sm/db-password" },
          env: { GREETING: "hello", API_TOKEN: "tok-s3cr3t-value" },
          maxInstances: 10,
          region: "europe-west1",
        }),
      }),
      h.context,
    );
    expect(changed).toBe(true);
    expect((changes ?? []).map((c) => [c.path, c.requiresReplacement])).toEqual([
      ["/env", false],
      ["/maxInstances", false],
      ["/region", true],
    ]);
    expect(JSON.stringify(changes)).not.toContain("s3cr3t");
    const keys = await h.driver.sensitiveKeys(create(SensitiveKeysRequestSchema, { type: "run.service" }), h.context);
    expect(keys.keys).toEqual(["/env"]);
  });

  it("scales through the minimum instance count, raising the maximum when needed, within int32", async () => {
    await createWeb();
    const { state } = await h.driver.scaleResource(
      create(ScaleResourceRequestSchema, { ref, replicas: 3n }),
      h.context,
    );
    expect(parse(state?.configJson)).toMatchObject({ minInstances: 3, maxInstances: 5 });
    await h.driver.scaleResource(create(ScaleResourceRequestSchema, { ref, replicas: 8n }), h.context);
    expect((await service()).scaling).toMatchObject({ minInstanceCount: 8, maxInstanceCount: 8 });
    await h.driver.scaleResource(create(ScaleResourceRequestSchema, { ref, replicas: 0n }), h.context);
    expect((await service()).scaling).toMatchObject({ minInstanceCount: 0, maxInstanceCount: 8 });
    await expect(
      h.driver.scaleResource(create(ScaleResourceRequestSchema, { ref, replicas: 2_147_483_648n }), h.context),
    ).rejects.toThrow(/outside 0..2147483647/);
    // A service created without instance counts gets Cloud Run's default maximum of 100 with its minimum.
    await h.driver.createResource(
      create(CreateResourceRequestSchema, { ref: { ...ref, name: "plain" }, configJson: json({ image: "i" }) }),
      h.context,
    );
    const { state: plain } = await h.driver.scaleResource(
      create(ScaleResourceRequestSchema, { ref: { ...ref, name: "plain" }, replicas: 2n }),
      h.context,
    );
    expect(parse(plain?.configJson)).toMatchObject({ minInstances: 2, maxInstances: 100 });
  });

  it("reports a revision that fails to start from the service's conditions: health and troubleshooting", async () => {
    await createWeb();
    h.fake.clock.advance(1_000); // the first revision is ready
    h.fake.services.setRevisionScript({
      failure: {
        revisionReason: "HEALTH_CHECK_CONTAINER_ERROR",
        message:
          "The user-provided container failed to start and listen on the port defined provided by the PORT=8081 environment variable.",
      },
    });
    await h.driver.updateResource(
      create(UpdateResourceRequestSchema, { ref, configJson: json({ ...webConfig, image: "gcr.io/p/broken" }) }),
      h.context,
    );
    h.fake.clock.advance(1_000);
    const unhealthy = await health();
    expect(unhealthy.healthy).toBe(false);
    expect(unhealthy.message).toMatch(
      /^not ready \(CONDITION_FAILED, REVISION_FAILED\): The user-provided container failed to start .*; serving web-00001-/,
    );
    const { diagnostics } = await h.driver.troubleshootResource(
      create(TroubleshootResourceRequestSchema, { ref }),
      h.context,
    );
    expect((diagnostics ?? []).map((d) => [d.severity, d.summary])).toEqual([
      [DiagnosticSeverity.ERROR, "Ready: failed (REVISION_FAILED)"],
      [DiagnosticSeverity.ERROR, "ConfigurationsReady: failed (HEALTH_CHECK_CONTAINER_ERROR)"],
      [DiagnosticSeverity.WARNING, expect.stringMatching(/^revision web-00002-\w+ is not serving$/)],
    ]);
    expect(diagnostics?.[0]?.detail).toMatch(/failed to start and listen on the port/);
  });

  it("deletes the service; deleting it again is not an error", async () => {
    await createWeb();
    for (let i = 0; i < 2; i++) await h.driver.deleteResource(create(DeleteResourceRequestSchema, { ref }), h.context);
    expect(h.fake.services.serviceNames()).toEqual([]);
  });
});

describe("run.service drift", () => {
  const detect = (desired: Record<string, unknown>) =>
    h.drift.detectDrift(create(DetectDriftRequestSchema, { ref, desiredConfigJson: json(desired) }), h.context);

  it("finds no drift when the service is as configured, in whatever form the config writes it", async () => {
    await createWeb();
    expect(await detect(webConfig)).toMatchObject({ drifted: false, missing: false, changes: [] });
  });

  it("reports a change made outside Flotilla, and a deleted service as missing", async () => {
    await createWeb();
    const client = await h.plugin.runtime().clients.services();
    const current = await service();
    await client.updateService({
      service: { ...current, scaling: { minInstanceCount: 0, maxInstanceCount: 50 } },
      updateMask: { paths: ["scaling"] },
    });
    const drift = await detect(webConfig);
    expect(drift).toMatchObject({ drifted: true, missing: false });
    expect((drift.changes ?? []).map((c) => [c.path, c.actualJson, c.desiredJson])).toEqual([
      ["/minInstances", "0", "1"],
      ["/maxInstances", "50", "5"],
    ]);
    await h.driver.deleteResource(create(DeleteResourceRequestSchema, { ref }), h.context);
    expect(await detect(webConfig)).toMatchObject({ drifted: true, missing: true, changes: [] });
  });
});
