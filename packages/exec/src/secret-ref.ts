/**
 * `secret://` references: how a job asks for a secret without the host ever
 * holding its value. The host validates the shape and passes the reference on
 * to where it resolves (a Kubernetes secretKeyRef, a provider plugin, a
 * resolver configured for local runs); error messages name the variable and
 * the reference, never a value.
 */

/** A parsed `secret://NAME/KEY` reference. */
export interface SecretRef {
  /** The secret store entry (a Kubernetes Secret's name). */
  readonly name: string;
  /** The key inside it. */
  readonly key: string;
}

/** Resolves a reference to its value; used only where the host itself is the place it resolves. */
export type SecretResolver = (reference: string) => Promise<string>;

/**
 * Parses `secret://NAME/KEY`. Throws a TypeError naming the variable when the
 * reference has another shape.
 */
export function parseSecretRef(variable: string, reference: string): SecretRef {
  const match = /^secret:\/\/([a-z0-9]([-a-z0-9.]*[a-z0-9])?)\/([-._a-zA-Z0-9]+)$/.exec(reference);
  if (!match?.[1] || !match[3]) {
    throw new TypeError(
      // The value is not echoed: a malformed "reference" is often a secret pasted in by mistake.
      `secretEnv.${variable}: expected a reference of the form secret://NAME/KEY (NAME a DNS subdomain, KEY letters, digits, '-', '_' or '.'); got ${reference.startsWith("secret://") ? "a malformed secret:// reference" : "a value that is not a secret:// reference"} (not shown, in case it is a secret); put secret values in your secret store and reference them`,
    );
  }
  return { name: match[1], key: match[3] };
}

/** Checks every entry of a secretEnv map; throws on the first malformed reference. */
export function validateSecretEnv(secretEnv: Readonly<Record<string, string>> = {}): void {
  for (const [variable, reference] of Object.entries(secretEnv)) parseSecretRef(variable, reference);
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
  const entries = Object.entries(secretEnv);
  if (entries.length === 0) return {};
  if (!resolver) {
    throw new TypeError(
      `${runnerKind} runner: secretEnv ${entries.map(([name]) => name).join(", ")} cannot be resolved: this runner has no secret resolver; pass one in its options or use a runner that resolves secret:// references remotely (kubernetes, ephemeral, provider-ephemeral)`,
    );
  }
  const resolved: Record<string, string> = {};
  for (const [variable, reference] of entries) {
    parseSecretRef(variable, reference);
    resolved[variable] = await resolver(reference);
  }
  return resolved;
}

/** A Kubernetes container env entry: a plain value or a reference to a key of a Secret. */
export type KubernetesEnvVar =
  | { name: string; value: string }
  | { name: string; valueFrom: { secretKeyRef: SecretRef } };

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
      valueFrom: { secretKeyRef: parseSecretRef(name, reference) },
    })),
  ];
}
