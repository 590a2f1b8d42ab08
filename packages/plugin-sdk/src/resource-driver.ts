/**
 * ResourceDriverService and DriftDetectorService built from resource types.
 *
 * A plugin that manages resources implements one {@link ResourceType} per
 * kind of resource it knows (an ECS service, a Cloud Run service, a log
 * group): create, read, update, delete, diff, health, scale, troubleshoot, and
 * optionally drift, on a config that is already a parsed JSON object.
 * {@link createResourceDriver} and {@link createDriftDetector} do what every
 * such plugin would otherwise repeat: dispatch by `ResourceRef.type` (an
 * unknown type names the known ones), require `ResourceRef.name`, parse the
 * JSON configs without ever quoting them, check a replica count is a
 * non-negative int32 before it becomes a JS number, and shape the responses.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import {
  type DiagnosticSchema,
  type DriftDetectorService,
  InvalidArgumentError,
  type ResourceDriverService,
  type ResourceRef,
  type ResourceStateSchema,
  UnimplementedError,
} from "@flotilla/protocol";
import { parseJson } from "./config.js";
import type { ServiceImpl } from "./definition.js";
import type { ConfigChange } from "./json-diff.js";

/** A resource's state as the contract's ResourceState init shape. */
export type ResourceStateInit = MessageInitShape<typeof ResourceStateSchema>;
/** A diagnostic as the contract's Diagnostic init shape. */
export type DiagnosticInit = MessageInitShape<typeof DiagnosticSchema>;

/** The largest replica count the contract allows (replica counts are non-negative int32). */
export const MAX_REPLICAS = 2_147_483_647;

/** One resource type's operations; `config` is the request's JSON, parsed to an object. */
export interface ResourceType {
  /** The type name in ResourceRef.type, e.g. "ecs.service", "run.service". */
  readonly type: string;
  /** JSON Pointers of config/output keys whose values must be masked. */
  readonly sensitiveKeys: readonly string[];
  /** Creates the resource; AlreadyExistsError when it exists. */
  create(ref: ResourceRef, config: Record<string, unknown>): Promise<ResourceStateInit>;
  /** Reads the resource; NotFoundError when it is gone. */
  read(ref: ResourceRef): Promise<ResourceStateInit>;
  /** Changes the resource in place; InvalidArgumentError for a change that needs replacement. */
  update(ref: ResourceRef, config: Record<string, unknown>): Promise<ResourceStateInit>;
  /** Deletes the resource; a missing one is not an error. */
  delete(ref: ResourceRef): Promise<void>;
  /** The changes from the actual to the desired config. */
  diff(ref: ResourceRef, desired: Record<string, unknown>): Promise<ConfigChange[]>;
  /** Whether the resource serves as desired, and a one-line summary. */
  health(ref: ResourceRef): Promise<{ healthy: boolean; message: string }>;
  /** Sets the replica count, already checked to be within 0..{@link MAX_REPLICAS}. */
  scale(ref: ResourceRef, replicas: number): Promise<ResourceStateInit>;
  /** Diagnostics, most recent first. */
  troubleshoot(ref: ResourceRef): Promise<DiagnosticInit[]>;
  /**
   * Whether the resource differs from the desired config on the keys it sets, for DetectDrift; absent
   * for types without drift detection. A missing resource is `missing`, not an error.
   */
  drift?(ref: ResourceRef, desired: Record<string, unknown>): Promise<{ missing: boolean; changes: ConfigChange[] }>;
}

/** The resource types of one plugin. */
export interface ResourceTypes {
  /** The plugin's name, for errors ("... is not a resource type the aws plugin knows"). */
  plugin: string;
  /** Its resource types; their `type` names must differ. */
  types: readonly ResourceType[];
}

/** Encodes a value as the contract's JSON bytes (`config_json`, `outputs_json`). */
export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}

/**
 * A request's JSON object (empty means `{}`); `what` names the field in errors. A resource config may hold
 * secrets: an error says where the JSON breaks, never what it says.
 */
export function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  const text = new TextDecoder().decode(bytes);
  const value = text.trim() === "" ? {} : parseJson(text, what, "send a JSON object");
  if (typeof value !== "object" || value === null || Array.isArray(value))
    throw new InvalidArgumentError(`${what}: must be a JSON object`);
  return value as Record<string, unknown>;
}

/** The names of the types that detect drift, e.g. for the registry's capabilities (`drift:<type>`). */
export function driftDetectingTypes({ types }: ResourceTypes): string[] {
  return types.filter((t) => t.drift).map((t) => t.type);
}

function typeLookup({ plugin, types }: ResourceTypes) {
  const byName = new Map(types.map((t) => [t.type, t]));
  if (byName.size !== types.length) throw new Error(`${plugin} plugin: two resource types share a name`);
  return function typeOf(ref: ResourceRef | undefined | string): { type: ResourceType; ref: ResourceRef } {
    const name = typeof ref === "string" ? ref : (ref?.type ?? "");
    const type = byName.get(name);
    if (!type)
      throw new InvalidArgumentError(
        `ResourceRef.type: ${JSON.stringify(name)} is not a resource type the ${plugin} plugin knows; known types: ${[...byName.keys()].join(", ")}`,
      );
    if (typeof ref !== "string" && !ref?.name)
      throw new InvalidArgumentError("ResourceRef.name: required; name the resource to act on");
    return { type, ref: ref as ResourceRef };
  };
}

/** ResourceDriverService over a plugin's resource types. */
export function createResourceDriver<Config = unknown>(
  resources: ResourceTypes,
): ServiceImpl<typeof ResourceDriverService, Config> {
  const typeOf = typeLookup(resources);
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
      // int64 on the wire: check the range before narrowing to a JS number, and before the type lookup,
      // so any plugin answers an out-of-range count the same way.
      const replicas = request.replicas;
      if (replicas < 0n || replicas > BigInt(MAX_REPLICAS)) {
        throw new InvalidArgumentError(
          `ScaleResourceRequest.replicas: ${replicas} is outside 0..${MAX_REPLICAS} (replica counts are non-negative int32)`,
        );
      }
      const { type, ref } = typeOf(request.ref);
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

/** DriftDetectorService over a plugin's resource types: DetectDrift for those that implement `drift`. */
export function createDriftDetector<Config = unknown>(
  resources: ResourceTypes,
): ServiceImpl<typeof DriftDetectorService, Config> {
  const typeOf = typeLookup(resources);
  const detecting = driftDetectingTypes(resources);
  return {
    async detectDrift(request) {
      const { type, ref } = typeOf(request.ref);
      if (!type.drift)
        throw new UnimplementedError(
          `DetectDrift: the ${resources.plugin} plugin detects drift for ${detecting.join(", ") || "no resource type"}, not for ${type.type}`,
        );
      const { missing, changes } = await type.drift(
        ref,
        parseJsonObject(request.desiredConfigJson, "DetectDriftRequest.desired_config_json"),
      );
      return { drifted: missing || changes.length > 0, missing, changes };
    },
  };
}
