/**
 * ResourceDriverService and DriftDetectorService for AWS: the SDK's
 * dispatch (`createResourceDriver`, `createDriftDetector`) over the AWS
 * resource types, "ecs.service" and "logs.log-group".
 */

import { createDriftDetector, createResourceDriver, type ResourceTypes, type ServiceImpl } from "@flotilla/plugin-sdk";
import type { DriftDetectorService, ResourceDriverService } from "@flotilla/protocol";
import type { AwsRuntime } from "../runtime.js";
import { ecsServiceType } from "./ecs-service.js";
import { logGroupType } from "./log-group.js";

function awsResourceTypes(runtime: () => AwsRuntime): ResourceTypes {
  return { plugin: "aws", types: [ecsServiceType(runtime), logGroupType(runtime)] };
}

/** The resource types that detect drift (the registry's capabilities name them). */
export const driftDetectingTypes = ["ecs.service"] as const;

/** Builds the DriftDetectorService over a runtime getter: DetectDrift for the types that support it. */
export function createAwsDriftDetector(runtime: () => AwsRuntime): ServiceImpl<typeof DriftDetectorService> {
  return createDriftDetector(awsResourceTypes(runtime));
}

/** Builds the resource driver over a runtime getter. */
export function createAwsResourceDriver(runtime: () => AwsRuntime): ServiceImpl<typeof ResourceDriverService> {
  return createResourceDriver(awsResourceTypes(runtime));
}
