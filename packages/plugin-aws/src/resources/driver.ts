/**
 * ResourceDriverService for AWS: dispatches each call to the resource type
 * named by ResourceRef.type ("ecs.service", "logs.log-group"), parsing the
 * JSON config and encoding the contract's responses.
 */

import type { ServiceImpl } from "@flotilla/plugin-sdk";
import { InvalidArgumentError, type ResourceDriverService, type ResourceRef } from "@flotilla/protocol";
import type { AwsRuntime } from "../runtime.js";
import { ecsServiceType } from "./ecs-service.js";
import { logGroupType } from "./log-group.js";
import type { ResourceType } from "./resource-type.js";

function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  const text = new TextDecoder().decode(bytes);
  let value: unknown;
  try {
    value = text.trim() === "" ? {} : JSON.parse(text);
  } catch (err) {
    throw new InvalidArgumentError(`${what}: not valid JSON (${(err as Error).message})`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidArgumentError(`${what}: must be a JSON object`);
  return value as Record<string, unknown>;
}

/** Builds the resource driver over a runtime getter. */
export function createAwsResourceDriver(runtime: () => AwsRuntime): ServiceImpl<typeof ResourceDriverService> {
  const types = new Map<string, ResourceType>([ecsServiceType(runtime), logGroupType(runtime)].map((t) => [t.type, t]));
  function typeOf(ref: ResourceRef | undefined | string): { type: ResourceType; ref: ResourceRef } {
    const name = typeof ref === "string" ? ref : (ref?.type ?? "");
    const type = types.get(name);
    if (!type)
      throw new InvalidArgumentError(
        `ResourceRef.type: ${JSON.stringify(name)} is not an aws resource type; known types: ${[...types.keys()].join(", ")}`,
      );
    if (typeof ref !== "string" && !ref?.name) throw new InvalidArgumentError("ResourceRef.name: required");
    return { type, ref: ref as ResourceRef };
  }

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
