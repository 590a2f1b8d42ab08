/**
 * The Cloud Run Services fake through the real `@google-cloud/run` ServicesClient over gRPC.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GrpcStatus } from "./api-error.js";
import { codeOf, fakeClients, serviceBody, testParent } from "./fixtures/clients.js";
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

const serviceName = (id: string) => `${testParent}/services/${id}`;
const getService = async (id: string) => (await clients.services.getService({ name: serviceName(id) }))[0];
const errorOf = async (promise: Promise<unknown>) => {
  try {
    await promise;
    return undefined;
  } catch (err) {
    return err as { code?: number; message: string };
  }
};

describe("the Cloud Run fake: services", () => {
  it("creates a service through a long-running operation: reconciling at first, then ready with its revision serving", async () => {
    fake.services.setReconcileMs(60_000);
    const [operation] = await clients.services.createService({
      parent: testParent,
      serviceId: "hello",
      service: serviceBody(),
    });
    expect(operation.done).toBe(false);
    const early = await getService("hello");
    expect(early).toMatchObject({ reconciling: true, observedGeneration: "0", uri: "" });
    expect(early.terminalCondition).toMatchObject({ type: "Ready", state: "CONDITION_RECONCILING" });
    expect(early.latestCreatedRevision).toMatch(/\/services\/hello\/revisions\/hello-00001-[a-z0-9]{3}$/);
    expect(early.latestReadyRevision).toBe("");
    fake.clock.advance(60_000);
    const [result] = await operation.promise();
    // The operation's Service is decoded from a google.protobuf.Any: int64 fields are Longs and enums numbers there.
    expect([String(result.generation), String(result.observedGeneration)]).toEqual(["1", "1"]);
    const service = await getService("hello");
    expect(service).toMatchObject({ reconciling: false, generation: "1", observedGeneration: "1" });
    expect(service.terminalCondition).toMatchObject({ type: "Ready", state: "CONDITION_SUCCEEDED" });
    expect(service.latestReadyRevision).toBe(service.latestCreatedRevision);
    expect(service.uri).toMatch(/^https:\/\/hello-[0-9a-f]+-uc\.a\.run\.app$/);
    expect(service.trafficStatuses?.[0]).toMatchObject({ percent: 100, revision: service.latestReadyRevision });
    // RevisionScaling.max_instance_count: "When unspecified, the field is set to the server default value of 100."
    expect(service.template?.scaling?.maxInstanceCount).toBe(100);
    expect(service.conditions?.map((c) => [c.type, c.state])).toEqual([
      ["RoutesReady", "CONDITION_SUCCEEDED"],
      ["ConfigurationsReady", "CONDITION_SUCCEEDED"],
    ]);
  });

  it("refuses a service id Cloud Run does not take, a repeat, and a service without a container", async () => {
    for (const serviceId of ["Hello", "ends-", `a${"b".repeat(49)}`, "1abc"])
      expect(
        await codeOf(clients.services.createService({ parent: testParent, serviceId, service: serviceBody() })),
      ).toBe(GrpcStatus.INVALID_ARGUMENT);
    await (
      await clients.services.createService({
        parent: testParent,
        serviceId: `a${"b".repeat(48)}`,
        service: serviceBody(),
      })
    )[0].promise();
    await clients.services.createService({ parent: testParent, serviceId: "twice", service: serviceBody() });
    const repeat = await errorOf(
      clients.services.createService({ parent: testParent, serviceId: "twice", service: serviceBody() }),
    );
    expect(repeat?.code).toBe(GrpcStatus.ALREADY_EXISTS);
    expect(
      await codeOf(
        clients.services.createService({ parent: testParent, serviceId: "empty", service: { template: {} } }),
      ),
    ).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it("refuses a minimum above the maximum, as the real service does for a minimum given without a maximum", async () => {
    const error = await errorOf(
      clients.services.createService({
        parent: testParent,
        serviceId: "scaled",
        service: { template: { containers: [{ image: "i" }], scaling: { minInstanceCount: 1 } } },
      }),
    );
    expect(error?.code).toBe(GrpcStatus.INVALID_ARGUMENT);
    expect(error?.message).toContain(
      "template.scaling.max_instance_count: must be greater or equal than min_instance_count",
    );
    expect(
      await codeOf(
        clients.services.createService({
          parent: testParent,
          serviceId: "scaled",
          service: serviceBody({ min: 5, max: 2 }),
        }),
      ),
    ).toBe(GrpcStatus.INVALID_ARGUMENT);
  });

  it("updates with the current etag to a new generation and revision, and refuses a stale etag with ABORTED", async () => {
    await (
      await clients.services.createService({ parent: testParent, serviceId: "web", service: serviceBody() })
    )[0].promise();
    const before = await getService("web");
    fake.services.setReconcileMs(60_000);
    const [operation] = await clients.services.updateService({
      service: { ...serviceBody({ image: "gcr.io/p/web:2" }), name: before.name, etag: before.etag },
    });
    const during = await getService("web");
    expect(during).toMatchObject({ generation: "2", observedGeneration: "1", reconciling: true });
    expect(during.latestCreatedRevision).toMatch(/hello|web-00002-/);
    expect(during.latestReadyRevision).toBe(before.latestReadyRevision);
    expect(during.etag).not.toBe(before.etag);
    const stale = await errorOf(
      clients.services.updateService({ service: { ...serviceBody(), name: before.name, etag: before.etag } }),
    );
    expect(stale?.code).toBe(GrpcStatus.ABORTED);
    expect(stale?.message).toMatch(/Read it again and retry/);
    fake.clock.advance(60_000);
    const [after] = await operation.promise();
    expect(after.reconciling).toBe(false);
    expect(String(after.observedGeneration)).toBe("2");
    expect(after.latestReadyRevision).toBe(during.latestCreatedRevision);
    expect(after.template?.containers?.[0]?.image).toBe("gcr.io/p/web:2");
  });

  it("replaces only the fields an update mask names", async () => {
    await (
      await clients.services.createService({
        parent: testParent,
        serviceId: "masked",
        service: serviceBody({ labels: { team: "a" }, min: 1, max: 3 }),
      })
    )[0].promise();
    await (
      await clients.services.updateService({
        service: { name: serviceName("masked"), labels: { team: "b" }, template: { containers: [{ image: "other" }] } },
        updateMask: { paths: ["labels"] },
      })
    )[0].promise();
    const service = await getService("masked");
    expect(service.labels).toEqual({ team: "b" });
    expect(service.template?.containers?.[0]?.image).toBe("us-docker.pkg.dev/cloudrun/container/hello");
    expect(service.scaling).toMatchObject({ minInstanceCount: 1, maxInstanceCount: 3 });
    expect(service.latestCreatedRevision).toMatch(/masked-00001-/);
  });

  it("keeps the last serving revision when a new one fails, with the failure in the conditions and the operation", async () => {
    await (
      await clients.services.createService({ parent: testParent, serviceId: "app", service: serviceBody() })
    )[0].promise();
    const good = await getService("app");
    fake.services.setRevisionScript({
      failure: {
        revisionReason: "HEALTH_CHECK_CONTAINER_ERROR",
        message:
          "The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable.",
      },
    });
    const [operation] = await clients.services.updateService({
      service: { ...serviceBody({ image: "broken" }), name: good.name },
    });
    const failure = await errorOf(operation.promise());
    expect(failure?.message).toMatch(/failed to start and listen on the port/);
    const service = await getService("app");
    expect(service.terminalCondition).toMatchObject({ state: "CONDITION_FAILED", reason: "REVISION_FAILED" });
    expect(service.conditions?.find((c) => c.type === "ConfigurationsReady")).toMatchObject({
      state: "CONDITION_FAILED",
      revisionReason: "HEALTH_CHECK_CONTAINER_ERROR",
    });
    expect(service).toMatchObject({ generation: "2", observedGeneration: "1", uri: good.uri });
    expect(service.latestReadyRevision).toBe(good.latestReadyRevision);
    expect(service.latestCreatedRevision).not.toBe(good.latestCreatedRevision);
  });

  it("answers NOT_FOUND for an update of a missing service unless allow_missing creates it", async () => {
    const body = { ...serviceBody(), name: serviceName("later") };
    expect(await codeOf(clients.services.updateService({ service: body }))).toBe(GrpcStatus.NOT_FOUND);
    await (await clients.services.updateService({ service: body, allowMissing: true }))[0].promise();
    expect((await getService("later")).generation).toBe("1");
  });

  it("deletes a service at once, refusing a stale etag", async () => {
    await (
      await clients.services.createService({ parent: testParent, serviceId: "gone", service: serviceBody() })
    )[0].promise();
    expect(await codeOf(clients.services.deleteService({ name: serviceName("gone"), etag: '"stale"' }))).toBe(
      GrpcStatus.ABORTED,
    );
    const [operation] = await clients.services.deleteService({ name: serviceName("gone") });
    const [deleted] = await operation.promise();
    expect(deleted.deleteTime).toBeTruthy();
    expect(await codeOf(getService("gone"))).toBe(GrpcStatus.NOT_FOUND);
    expect(await codeOf(clients.services.deleteService({ name: serviceName("gone") }))).toBe(GrpcStatus.NOT_FOUND);
  });

  it("lists a region's services page by page", async () => {
    for (const id of ["s1", "s2", "s3"])
      await clients.services.createService({ parent: testParent, serviceId: id, service: serviceBody() });
    const [first, , response] = await clients.services.listServices(
      { parent: testParent, pageSize: 2 },
      { autoPaginate: false },
    );
    expect(first.map((s) => s.name?.split("/").at(-1))).toEqual(["s1", "s2"]);
    const [rest] = await clients.services.listServices(
      { parent: testParent, pageSize: 2, pageToken: response?.nextPageToken ?? "" },
      { autoPaginate: false },
    );
    expect(rest.map((s) => s.name?.split("/").at(-1))).toEqual(["s3"]);
  });
});
