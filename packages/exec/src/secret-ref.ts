/**
 * Where the execution environments send `secret://` references: the host checks
 * each against the one grammar (`parseSecretReference` in @flotilla/protocol) and
 * passes it on to where it resolves — a Kubernetes secretKeyRef, a provider
 * plugin, or a resolver configured for runs on this machine. Error messages name
 * the variable and the reference, never a value.
 */
import { InvalidArgumentError, parseSecretEnv, parseSecretReference } from "@flotilla/protocol";

/**
 * Resolves a reference to its value; used only where the host itself is the place it resolves.
 * `where` names the reference in errors (`secretEnv.NAME`).
 */
export type SecretResolver = (reference: string, where: string) => Promise<string>;

/** The place secretEnv entries are named in errors: `secretEnv.NAME`, as SandboxRunRequest spells the field. */
const WHERE = "secretEnv";

/**
 * Checks every entry of a secretEnv map against the reference grammar; throws on the
 * first malformed one. Stores are not checked: the place that resolves them does that.
 */
export function validateSecretEnv(secretEnv: Readonly<Record<string, string>> = {}): void {
  parseSecretEnv(secretEnv, WHERE);
}

/**
 * Resolves every reference with `resolver` for runners that hand plain values
 * to a process on this machine. Without a resolver, secret env is refused with
 * a message saying how to fix it.
 */
export async function resolveSecretEnv(
  runnerKind: string,
  secretEnv: Readonly<Record<string, string>> = {},
  resolver?: SecretResolver,
): Promise<Record<string, string>> {
  const references = parseSecretEnv(secretEnv, WHERE);
  if (references.size === 0) return {};
  if (!resolver) {
    throw new InvalidArgumentError(
      `${runnerKind} runner: secretEnv ${[...references.keys()].join(", ")} cannot be resolved: this runner has no secret resolver; pass one in its options or use a runner that resolves secret:// references remotely (kubernetes, ephemeral, provider-ephemeral)`,
    );
  }
  const resolved: Record<string, string> = {};
  for (const [variable, { reference }] of references) {
    resolved[variable] = await resolver(reference, `${WHERE}.${variable}`);
  }
  return resolved;
}

/** A key of a Kubernetes Secret, as a container env entry's `valueFrom.secretKeyRef` names it. */
export interface KubernetesSecretKeyRef {
  /** The Secret's name (the reference's store). */
  readonly name: string;
  /** The key inside it. */
  readonly key: string;
}

// A Secret's data keys: "must consist of alphanumeric characters, '-', '_' or '.'"
// (kubernetes.io/docs/concepts/configuration/secret/#restriction-names-data).
const SECRET_KEY = /^[-._a-zA-Z0-9]+$/;

/**
 * The Kubernetes Secret key a reference names: `secret://NAME/KEY` is key KEY of
 * Secret NAME in the job's namespace. The grammar already makes NAME a DNS
 * subdomain, as a Secret's name must be; KEY is checked here.
 */
export function kubernetesSecretKeyRef(variable: string, reference: string): KubernetesSecretKeyRef {
  const where = `${WHERE}.${variable}`;
  const { store, rest } = parseSecretReference(reference, where);
  if (store === "arn" || !SECRET_KEY.test(rest)) {
    throw new InvalidArgumentError(
      `${where}: ${JSON.stringify(reference)} does not name a key of a Kubernetes Secret; write secret://SECRET_NAME/KEY (KEY made of letters, digits, '-', '_' and '.')`,
    );
  }
  return { name: store, key: rest };
}

/** A Kubernetes container env entry: a plain value or a reference to a key of a Secret. */
export type KubernetesEnvVar =
  | { name: string; value: string }
  | { name: string; valueFrom: { secretKeyRef: KubernetesSecretKeyRef } };

/**
 * The container env of a Pod or an Argo template for a request: plain `env`
 * as values, `secretEnv` as secretKeyRefs, so the kubelet resolves the
 * secrets and their values never pass through the host.
 */
export function kubernetesEnv(request: {
  env?: Readonly<Record<string, string>>;
  secretEnv?: Readonly<Record<string, string>>;
}): KubernetesEnvVar[] {
  return [
    ...Object.entries(request.env ?? {}).map(([name, value]) => ({ name, value })),
    ...Object.entries(request.secretEnv ?? {}).map(([name, reference]) => ({
      name,
      valueFrom: { secretKeyRef: kubernetesSecretKeyRef(name, reference) },
    })),
  ];
}
