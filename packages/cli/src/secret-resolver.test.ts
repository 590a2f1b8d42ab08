import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseConfig } from "./config/load-config.js";
import { localSecretResolver } from "./secret-resolver.js";

const dir = mkdtempSync(join(tmpdir(), "flotilla-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const withSecretsDir = parseConfig(
  `plugins:\n  local:\n    config: { secrets_dir: ${JSON.stringify(dir)} }\n`,
  "t.yaml",
);

describe("localSecretResolver", () => {
  it("reads env references and file references from the local provider's secrets_dir", async () => {
    writeFileSync(join(dir, "db-password"), "pw-from-file\n");
    const resolve = localSecretResolver(withSecretsDir, { TOKEN: "tok" });
    await expect(resolve("secret://env/TOKEN", "secretEnv.T")).resolves.toBe("tok");
    await expect(resolve("secret://file/db-password", "secretEnv.P")).resolves.toBe("pw-from-file");
  });

  it("reads /run/secrets when flotilla.yaml sets no secrets_dir, as the local provider does", async () => {
    const resolve = localSecretResolver(parseConfig("{}\n", "t.yaml"), {});
    await expect(resolve("secret://file/flotilla-test-none", "secretEnv.P")).rejects.toThrow(
      "secretEnv.P: secret://file/flotilla-test-none: file /run/secrets/flotilla-test-none does not exist (secrets_dir is /run/secrets)",
    );
  });

  it("explains missing and unsupported references without values", async () => {
    const resolve = localSecretResolver(withSecretsDir, { OTHER: "s3cr3t" });
    const missing = await resolve("secret://env/MISSING", "secretEnv.M").catch((e: Error) => e);
    expect((missing as Error).message).toBe(
      "secretEnv.M: secret://env/MISSING is not set in the environment of flotilla; export it before `flotilla run`",
    );
    await expect(resolve("secret://vault/x", "secretEnv.V")).rejects.toThrow(
      /secret store "vault" .* is not resolved on this machine/,
    );
    await expect(resolve("secret://file/..", "secretEnv.D")).rejects.toThrow(/must name a file/);
  });
});
