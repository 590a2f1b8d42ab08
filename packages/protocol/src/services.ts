/**
 * The contract's services by role, and the fully qualified names a
 * ContractRegistry lists.
 */
import type { DescService } from "@bufbuild/protobuf";
import { DriftDetectorService } from "./gen/contract/flotilla/plugin/v1/drift_pb.js";
import { IaCProviderService } from "./gen/contract/flotilla/plugin/v1/provider_pb.js";
import { RegionListerService } from "./gen/contract/flotilla/plugin/v1/region_pb.js";
import { ContractRegistryService } from "./gen/contract/flotilla/plugin/v1/registry_pb.js";
import { ResourceDriverService } from "./gen/contract/flotilla/plugin/v1/resource_pb.js";
import { IaCProviderRunnerService } from "./gen/contract/flotilla/plugin/v1/runner_pb.js";

/** Services every provider plugin serves; never listed in the registry. */
export const requiredServices: readonly DescService[] = [IaCProviderService, ContractRegistryService];

/**
 * The services a plugin may serve, under the key a plugin definition (plugin-sdk) and a provider
 * client (host) use for each; a plugin lists each in its registry exactly when it serves it.
 */
export const optionalServiceByKey = {
  runner: IaCProviderRunnerService,
  resourceDriver: ResourceDriverService,
  regionLister: RegionListerService,
  driftDetector: DriftDetectorService,
} as const satisfies Record<string, DescService>;

/** The key of an optional service: `runner`, `resourceDriver`, `regionLister` or `driftDetector`. */
export type OptionalServiceKey = keyof typeof optionalServiceByKey;

/** Services a plugin may serve; each is listed in the registry exactly when served. */
export const optionalServices: readonly DescService[] = Object.values(optionalServiceByKey);

/** Fully qualified names of the optional services, as listed in ContractRegistry.services. */
export const OptionalServiceName = {
  runner: IaCProviderRunnerService.typeName,
  resourceDriver: ResourceDriverService.typeName,
  regionLister: RegionListerService.typeName,
  driftDetector: DriftDetectorService.typeName,
} as const satisfies Record<OptionalServiceKey, string>;
