import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GrpcStatus } from "./api-error.js";
import { codeOf, fakeClients, jobBody, testParent } from "./fixtures/clients.js";
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

describe("the GCP fake's server", () => {
  it("answers a method it does not simulate with UNIMPLEMENTED", async () => {
    expect(await codeOf(clients.jobs.getIamPolicy({ resource: `${testParent}/jobs/x` }))).toBe(
      GrpcStatus.UNIMPLEMENTED,
    );
  });

  it("serves the operations of a location through google.longrunning.Operations", async () => {
    const [operation] = await clients.jobs.createJob({ parent: testParent, jobId: "op", job: jobBody() });
    await operation.promise();
    // The mixin methods take the generated request classes; a plain object is what they serialize.
    const listed: string[] = [];
    for await (const o of clients.jobs.listOperationsAsync({ name: testParent } as never))
      listed.push(o.name as string);
    expect(listed).toEqual([operation.name]);
    await clients.jobs.deleteOperation({ name: operation.name } as never);
    expect(await codeOf(clients.jobs.getOperation({ name: operation.name } as never))).toBe(GrpcStatus.NOT_FOUND);
  });
});
