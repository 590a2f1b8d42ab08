/**
 * ResourceDriverService and DriftDetectorService for GCP: the SDK's dispatch
 * (`createResourceDriver`, `createDriftDetector`) over the GCP resource types.
 */
import { createDriftDetector, createResourceDriver, type ResourceTypes, type ServiceImpl } from "@flotilla/plugin-sdk";
import type { DriftDetectorService, ResourceDriverService } from "@flotilla/protocol";
import type { GcpRuntime } from "../runtime.js";
import { runJobType } from "./run-job.js";
import { runServiceType } from "./run-service.js";

function gcpResourceTypes(runtime: () => GcpRuntime): ResourceTypes {
  return { plugin: "gcp", types: [runServiceType(runtime), runJobType(runtime)] };
}

/** The resource types, and those that detect drift (the registry's capabilities name them). */
export const resourceTypeNames = ["run.service", "run.job"] as const;
export const driftDetectingTypes = ["run.service", "run.job"] as const;

/** Builds the resource driver over a runtime getter. */
export function createGcpResourceDriver(runtime: () => GcpRuntime): ServiceImpl<typeof ResourceDriverService> {
  return createResourceDriver(gcpResourceTypes(runtime));
}

/** Builds the DriftDetectorService over a runtime getter. */
export function createGcpDriftDetector(runtime: () => GcpRuntime): ServiceImpl<typeof DriftDetectorService> {
  return createDriftDetector(gcpResourceTypes(runtime));
}
