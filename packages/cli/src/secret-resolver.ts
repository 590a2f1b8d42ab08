/**
 * Resolves `secret://` references on this machine for execution environments
 * whose command runs here (`local`, `local-docker`): the local provider's own
 * resolver and stores, read from the CLI's environment and from the same
 * `secrets_dir` the local provider uses (`plugins.local.config.secrets_dir` in
 * flotilla.yaml, default /run/secrets), so a reference means the same thing
 * whichever way `flotilla run` runs the job.
 */
import type { SecretResolver } from "@flotilla/exec";
import { resolveLocalSecret } from "@flotilla/plugin-local";
import type { FlotillaConfig } from "./config/flotilla-config.js";

/** The local provider's `secrets_dir` as flotilla.yaml configures it, if it does. */
export function configuredSecretsDir(config: FlotillaConfig): string | undefined {
  const dir = config.plugins?.local?.config?.secrets_dir;
  return typeof dir === "string" && dir !== "" ? dir : undefined;
}

/** A resolver over `environment` (normally process.env) and the configured secrets directory. */
export function localSecretResolver(
  config: FlotillaConfig,
  environment: NodeJS.ProcessEnv = process.env,
): SecretResolver {
  const secretsDir = configuredSecretsDir(config);
  return (reference, where) =>
    resolveLocalSecret(reference, where, {
      environment,
      ...(secretsDir ? { secretsDir } : {}),
      missingVariableHint: "the environment of flotilla; export it before `flotilla run`",
    });
}
