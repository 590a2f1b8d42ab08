/**
 * The digest that tells a retried submission of a job from a different job
 * sent under the same idempotency key: SHA-256 over the JobSpec's canonical
 * JSON (protobuf JSON with object keys sorted at every level), so two specs
 * that mean the same thing (a map built in another order, a default field
 * left out or set) have one digest.
 */
import { createHash } from "node:crypto";
import { type JsonValue, toJson } from "@bufbuild/protobuf";
import { type JobSpec, JobSpecSchema } from "@flotilla/protocol";

/** SHA-256 (hex) of the spec's canonical JSON. */
export function specDigest(spec: JobSpec): string {
  return createHash("sha256")
    .update(canonicalJson(toJson(JobSpecSchema, spec)))
    .digest("hex");
}

/** JSON with the keys of every object sorted, and no whitespace. */
export function canonicalJson(value: JsonValue): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  if (value !== null && typeof value === "object") {
    const keys = Object.keys(value).sort();
    return `{${keys.map((key) => `${JSON.stringify(key)}:${canonicalJson(value[key] as JsonValue)}`).join(",")}}`;
  }
  return JSON.stringify(value);
}
