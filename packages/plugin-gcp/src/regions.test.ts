import { type FakeGcp, GcpFaults, startFakeGcp } from "@flotilla/fakes";
import { PermissionDeniedError } from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { GcpClients } from "./clients.js";
import { parseGcpEndpoint } from "./endpoint.js";
import { listGcpRegions } from "./regions.js";

let fake: FakeGcp;
let clients: GcpClients;
beforeEach(async () => {
  fake = await startFakeGcp();
  clients = new GcpClients({ project: "flotilla-test", endpoint: parseGcpEndpoint(fake.address, true) });
});
afterEach(async () => {
  await clients.close();
  await fake.close();
});

describe("listGcpRegions", () => {
  it("lists the regions Cloud Run's ListLocations reports, across pages, sorted by id", async () => {
    fake.run.locations = [
      { locationId: "us-east1", displayName: "South Carolina" },
      { locationId: "europe-west1", displayName: "Belgium" },
      { locationId: "asia-northeast1", displayName: "Tokyo" },
    ];
    fake.run.setPageLimits({ maxSize: 2 });
    expect(await listGcpRegions(clients)).toEqual([
      { id: "asia-northeast1", displayName: "Tokyo", available: true },
      { id: "europe-west1", displayName: "Belgium", available: true },
      { id: "us-east1", displayName: "South Carolina", available: true },
    ]);
    expect(fake.calls.count("ListLocations")).toBe(2);
  });

  it("translates PERMISSION_DENIED into PermissionDeniedError naming the call", async () => {
    fake.faults.inject("ListLocations", () => GcpFaults.permissionDenied("run.locations.list"));
    const failure = listGcpRegions(clients);
    await expect(failure).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(failure).rejects.toThrow(/Cloud Run ListLocations failed: .*run\.locations\.list/);
  });
});
