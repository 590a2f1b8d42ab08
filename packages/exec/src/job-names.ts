/**
 * Deterministic, DNS-safe names and label values derived from a job's
 * identity. The same identity always yields the same name, so a re-dispatched
 * job (after a lost response, a host restart) finds the run already started
 * instead of starting a second one: no counters, no random suffixes.
 */
import { createHash } from "node:crypto";
import { InvalidArgumentError } from "@flotilla/protocol";
import type { JobIdentity } from "./sandbox-runner.js";

/** Longest Kubernetes label value and DNS-1123 label. */
export const MAX_LABEL_LENGTH = 63;

/** Label (or Docker label / Argo label) keys Flotilla puts on what it creates. */
export const FLOTILLA_LABELS = {
  /** Marks an object as created by Flotilla; the garbage collector selects on it. */
  managedBy: "app.kubernetes.io/managed-by",
  /** The job id, made label-safe (possibly truncated with a hash). */
  job: "flotilla.dev/job",
  /** The hash of the full run key; unique per identity and attempt. */
  runKey: "flotilla.dev/run-key",
} as const;

/** Value of the managed-by label. */
export const MANAGED_BY_VALUE = "flotilla";

/**
 * Annotation carrying the untruncated job id, so the garbage collector can ask
 * whether the job is still known even when the label had to be shortened.
 */
export const JOB_ID_ANNOTATION = "flotilla.dev/job-id";

/** The key that identifies one run: the explicit idempotency key, else job id and attempt. */
export function runKey(identity: JobIdentity, idempotencyKey?: string): string {
  if (idempotencyKey) return `key:${idempotencyKey}`;
  return `job:${identity.jobId}#${identity.attempt ?? 1}`;
}

/** A short hex digest; 10 hex characters keep collisions negligible per namespace. */
export function shortHash(text: string, length = 10): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * A DNS-1123 label (lowercase letters, digits and '-', starting with a letter,
 * at most `maxLength` characters) for a run: `<prefix>-<readable part>-<hash>`.
 * The hash of the full run key is always appended, so two job ids that
 * slugify alike still get different names.
 */
export function runName(
  identity: JobIdentity,
  options: { prefix?: string; maxLength?: number; idempotencyKey?: string } = {},
): string {
  const prefix = options.prefix ?? "flt";
  const maxLength = options.maxLength ?? MAX_LABEL_LENGTH;
  const hash = shortHash(runKey(identity, options.idempotencyKey));
  const room = maxLength - prefix.length - hash.length - 2;
  if (room < 0)
    throw new InvalidArgumentError(`runName: maxLength ${maxLength} leaves no room for prefix "${prefix}" and hash`);
  const slug = slugify(identity.jobId).slice(0, room).replace(/-+$/, "");
  return slug ? `${prefix}-${slug}-${hash}` : `${prefix}-${hash}`;
}

/**
 * A valid Kubernetes label value for any text: at most 63 characters of
 * [A-Za-z0-9._-], starting and ending alphanumeric. Text that is already
 * valid is returned unchanged; anything else is sanitised and, when too long,
 * truncated with a hash of the original so distinct inputs stay distinct.
 */
export function labelValue(text: string): string {
  if (/^(?:[A-Za-z0-9](?:[A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/.test(text)) return text;
  const cleaned = text.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^[^A-Za-z0-9]+|[^A-Za-z0-9]+$/g, "");
  const hash = shortHash(text);
  const head = cleaned.slice(0, MAX_LABEL_LENGTH - hash.length - 1).replace(/[^A-Za-z0-9]+$/, "");
  return head ? `${head}-${hash}` : hash;
}

/** The labels every Flotilla-created object carries, merged over the caller's own. */
export function flotillaLabels(
  identity: JobIdentity,
  userLabels: Readonly<Record<string, string>> = {},
  idempotencyKey?: string,
): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(userLabels)) labels[key] = labelValue(value);
  labels[FLOTILLA_LABELS.managedBy] = MANAGED_BY_VALUE;
  labels[FLOTILLA_LABELS.job] = labelValue(identity.jobId);
  labels[FLOTILLA_LABELS.runKey] = shortHash(runKey(identity, idempotencyKey), 20);
  return labels;
}

/** The label selector matching every object Flotilla manages. */
export const MANAGED_SELECTOR = `${FLOTILLA_LABELS.managedBy}=${MANAGED_BY_VALUE}`;

function slugify(text: string): string {
  return text
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^[^a-z]+/, "")
    .replace(/-+$/, "");
}

const QUALIFIED_NAME = /^(?:[A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9](?:[-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9](?:[-a-z0-9]*[a-z0-9])?)*$/;

/**
 * What is wrong with a Kubernetes label key, or undefined when the API server would accept it. The rule is
 * apimachinery's IsQualifiedName (k8s.io/apimachinery/pkg/util/validation, used by ValidateLabels; also
 * https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set): an
 * optional prefix that is a DNS-1123 subdomain of at most 253 characters and a "/", then a name of at most 63
 * characters of [A-Za-z0-9._-] that starts and ends alphanumeric.
 */
export function labelKeyProblem(key: string): string | undefined {
  const parts = key.split("/");
  if (parts.length > 2) return "it has more than one '/' (the form is [prefix/]name)";
  const [prefix, name] = parts.length === 2 ? [parts[0] ?? "", parts[1] ?? ""] : [undefined, parts[0] ?? ""];
  if (prefix !== undefined) {
    if (prefix.length === 0) return "its prefix before '/' is empty";
    if (prefix.length > 253) return `its prefix is ${prefix.length} characters; at most 253 are allowed`;
    if (!DNS1123_SUBDOMAIN.test(prefix))
      return "its prefix must be a DNS subdomain: lower-case letters, digits, '-' and '.', starting and ending with a letter or digit";
  }
  if (name.length === 0) return "its name part is empty";
  if (name.length > MAX_LABEL_LENGTH) return `its name part is ${name.length} characters; at most 63 are allowed`;
  if (!QUALIFIED_NAME.test(name))
    return "its name part must consist of letters, digits, '-', '_' or '.', and start and end with a letter or digit";
  return undefined;
}

/** Throws a clear error naming every label key the Kubernetes API server would refuse (422), before any request. */
export function validateLabelKeys(runnerKind: string, labels: Readonly<Record<string, string>> | undefined): void {
  const problems = Object.keys(labels ?? {}).flatMap((key) => {
    const problem = labelKeyProblem(key);
    return problem ? [`label key ${JSON.stringify(key)} is invalid: ${problem}`] : [];
  });
  if (problems.length === 0) return;
  throw new InvalidArgumentError(
    `${runnerKind} runner: ${problems.join("; ")}. Kubernetes would refuse the object (422); rename the key in request.labels, e.g. "team" or "example.com/team"`,
  );
}
