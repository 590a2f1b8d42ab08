/**
 * What one resource type (an ECS service, a log group) implements; the
 * ResourceDriverService in driver.ts dispatches to it by ResourceRef.type.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { ConfigChange } from "@flotilla/plugin-sdk";
import type { DiagnosticSchema, ResourceRef, ResourceStateSchema } from "@flotilla/protocol";

/** A resource's state as the contract's ResourceState init shape. */
export type ResourceStateInit = MessageInitShape<typeof ResourceStateSchema>;
/** A diagnostic as the contract's Diagnostic init shape. */
export type DiagnosticInit = MessageInitShape<typeof DiagnosticSchema>;

/** One resource type's operations; config is the parsed JSON object. */
export interface ResourceType {
  /** The type name in ResourceRef.type, e.g. "ecs.service". */
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
  /** Sets the replica count (already checked to be a non-negative int32). */
  scale(ref: ResourceRef, replicas: number): Promise<ResourceStateInit>;
  /** Diagnostics, most recent first. */
  troubleshoot(ref: ResourceRef): Promise<DiagnosticInit[]>;
  /**
   * Whether the resource differs from the desired config on the keys it sets, for DetectDrift; absent
   * for types without drift detection. A missing resource is `missing`, not an error.
   */
  drift?(ref: ResourceRef, desired: Record<string, unknown>): Promise<{ missing: boolean; changes: ConfigChange[] }>;
}

/** Encodes an object as the contract's JSON bytes. */
export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
