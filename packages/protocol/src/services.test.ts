import { describe, expect, it } from "vitest";
import { OptionalServiceName, optionalServiceByKey, optionalServices, requiredServices } from "./services.js";

describe("the contract's services by role", () => {
  it("requires the provider and the registry of every plugin", () => {
    expect(requiredServices.map((s) => s.typeName)).toEqual([
      "flotilla.plugin.v1.IaCProviderService",
      "flotilla.plugin.v1.ContractRegistryService",
    ]);
  });

  it("lists the four optional services, each under the name a registry advertises", () => {
    expect(optionalServices.map((s) => s.typeName)).toEqual([
      "flotilla.plugin.v1.IaCProviderRunnerService",
      "flotilla.plugin.v1.ResourceDriverService",
      "flotilla.plugin.v1.RegionListerService",
      "flotilla.plugin.v1.DriftDetectorService",
    ]);
    expect(Object.values(OptionalServiceName)).toEqual(optionalServices.map((s) => s.typeName));
  });

  it("keys each optional service as a plugin definition and a provider client name it", () => {
    expect(Object.fromEntries(Object.entries(optionalServiceByKey).map(([key, s]) => [key, s.typeName]))).toEqual(
      OptionalServiceName,
    );
  });
});
