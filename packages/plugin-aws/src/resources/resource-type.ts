/**
 * What one resource type (an ECS service, a log group) implements; the
 * ResourceDriverService in driver.ts dispatches to it by ResourceRef.type.
 */
import type { MessageInitShape } from "@bufbuild/protobuf";
import type { DiagnosticSchema, ResourceRef, ResourceStateSchema } from "@flotilla/protocol";
import type { ConfigChange } from "../shared/json-diff.js";

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
  create(ref: ResourceRef, config: Record<string, unknown>): Promise<ResourceStateInit>;
  read(ref: ResourceRef): Promise<ResourceStateInit>;
  update(ref: ResourceRef, config: Record<string, unknown>): Promise<ResourceStateInit>;
  delete(ref: ResourceRef): Promise<void>;
  diff(ref: ResourceRef, desired: Record<string, unknown>): Promise<ConfigChange[]>;
  health(ref: ResourceRef): Promise<{ healthy: boolean; message: string }>;
  scale(ref: ResourceRef, replicas: number): Promise<ResourceStateInit>;
  troubleshoot(ref: ResourceRef): Promise<DiagnosticInit[]>;
}

/** Encodes an object as the contract's JSON bytes. */
export function jsonBytes(value: unknown): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(value));
}
