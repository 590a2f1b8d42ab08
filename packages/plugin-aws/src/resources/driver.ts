/**
 * ResourceDriverService for AWS: dispatches each call to the resource type
 * named by ResourceRef.type ("ecs.service", "logs.log-group"), parsing the
 * JSON config and encoding the contract's responses.
 */

import { parseJson, type ServiceImpl } from "@flotilla/plugin-sdk";
import {
  type DriftDetectorService,
  InvalidArgumentError,
  type ResourceDriverService,
  type ResourceRef,
  UnimplementedError,
} from "@flotilla/protocol";
import type { AwsRuntime } from "../runtime.js";
import { ecsServiceType } from "./ecs-service.js";
import { logGroupType } from "./log-group.js";
import type { ResourceType } from "./resource-type.js";

function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  const text = new TextDecoder().decode(bytes);
  // A resource config may hold secret values: the error says where the JSON breaks, never what it says.
  const value = text.trim() === "" ? {} : parseJson(text, what, "send a JSON object");
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidArgumentError(`${what}: must be a JSON object`);
  return value as Record<string, unknown>;
}

/** The resource types of the AWS plugin by ResourceRef.type, and a lookup that names the known ones. */
function resourceTypes(runtime: () => AwsRuntime) {
  const types = new Map<string, ResourceType>([ecsServiceType(runtime), logGroupType(runtime)].map((t) => [t.type, t]));
  return function typeOf(ref: ResourceRef | undefined | string): { type: ResourceType; ref: ResourceRef } {
    const name = typeof ref === "string" ? ref : (ref?.type ?? "");
    const type = types.get(name);
    if (!type)
      throw new InvalidArgumentError(
        `ResourceRef.type: ${JSON.stringify(name)} is not an aws resource type; known types: ${[...types.keys()].join(", ")}`,
      );
    if (typeof ref !== "string" && !ref?.name) throw new InvalidArgumentError("ResourceRef.name: required");
    return { type, ref: ref as ResourceRef };
  };
}

/** The resource types that detect drift (the registry's capabilities name them). */
export const driftDetectingTypes = ["ecs.service"] as const;

/** Builds the DriftDetectorService over a runtime getter: DetectDrift for the types that support it. */
export function createAwsDriftDetector(runtime: () => AwsRuntime): ServiceImpl<typeof DriftDetectorService> {
  const typeOf = resourceTypes(runtime);
  return {
    async detectDrift(request) {
      const { type, ref } = typeOf(request.ref);
      if (!type.drift)
        throw new UnimplementedError(
          `DetectDrift: the aws plugin detects drift for ${driftDetectingTypes.join(", ")}, not for ${type.type}`,
        );
      const { missing, changes } = await type.drift(
        ref,
        parseJsonObject(request.desiredConfigJson, "DetectDriftRequest.desired_config_json"),
      );
      return { drifted: missing || changes.length > 0, missing, changes };
    },
  };
}

/** Builds the resource driver over a runtime getter. */
export function createAwsResourceDriver(runtime: () => AwsRuntime): ServiceImpl<typeof ResourceDriverService> {
  const typeOf = resourceTypes(runtime);
  return {
    async createResource(request) {
      const { type, ref } = typeOf(request.ref);
      return {
        state: await type.create(ref, parseJsonObject(request.configJson, "CreateResourceRequest.config_json")),
      };
    },
    async readResource(request) {
      const { type, ref } = typeOf(request.ref);
      return { state: await type.read(ref) };
    },
    async updateResource(request) {
      const { type, ref } = typeOf(request.ref);
      return {
        state: await type.update(ref, parseJsonObject(request.configJson, "UpdateResourceRequest.config_json")),
      };
    },
    async deleteResource(request) {
      const { type, ref } = typeOf(request.ref);
      await type.delete(ref);
      return {};
    },
    async diffResource(request) {
      const { type, ref } = typeOf(request.ref);
      const changes = await type.diff(
        ref,
        parseJsonObject(request.desiredConfigJson, "DiffResourceRequest.desired_config_json"),
      );
      return { changed: changes.length > 0, changes };
    },
    async checkResourceHealth(request) {
      const { type, ref } = typeOf(request.ref);
      return await type.health(ref);
    },
    async scaleResource(request) {
      const { type, ref } = typeOf(request.ref);
      // int64 on the wire: check the range before narrowing to a JS number.
      const replicas = request.replicas;
      if (replicas < 0n || replicas > 2_147_483_647n) {
        throw new InvalidArgumentError(
          `ScaleResourceRequest.replicas: ${replicas} is outside 0..2147483647 (replica counts are non-negative int32)`,
        );
      }
      return { state: await type.scale(ref, Number(replicas)) };
    },
    async sensitiveKeys(request) {
      return { keys: [...typeOf(request.type).type.sensitiveKeys] };
    },
    async troubleshootResource(request) {
      const { type, ref } = typeOf(request.ref);
      return { diagnostics: await type.troubleshoot(ref) };
    },
  };
}
