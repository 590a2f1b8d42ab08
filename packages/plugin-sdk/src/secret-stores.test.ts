import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError, NotFoundError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { localSecretStores, resolveSecretEnv, resolveSecretReference, type SecretStores } from "./secret-stores.js";

describe("resolveSecretEnv", () => {
  const reads: string[] = [];
  const stores: SecretStores = {
    env: (rest) => {
      reads.push(`env:${rest}`);
      if (rest === "MISSING") throw new NotFoundError(`${rest} is not set`);
      return `value-of-${rest}`;
    },
    vault: async (rest, where, reference) => {
      reads.push(`vault:${rest}`);
      return `${where} ${reference}`;
    },
  };

  it("hands each store its own part of the reference, the place and the reference", async () => {
    reads.length = 0;
    await expect(
      resolveSecretEnv({ A: "secret://env/TOKEN", B: "secret://vault/kv/app#key" }, stores),
    ).resolves.toEqual({ A: "value-of-TOKEN", B: "spec.secret_env.B secret://vault/kv/app#key" });
    expect(reads).toEqual(["env:TOKEN", "vault:kv/app#key"]);
  });

  it("checks every reference before reading any, naming the stores it resolves", async () => {
    reads.length = 0;
    const attempt = resolveSecretEnv({ A: "secret://env/TOKEN", B: "secret://ssm//prod/db" }, stores, "env");
    await expect(attempt).rejects.toThrow(InvalidArgumentError);
    await expect(attempt).rejects.toThrow(
      'env.B: secret store "ssm" in "secret://ssm//prod/db" is not one this plugin resolves; use secret://env/... or secret://vault/...',
    );
    await expect(resolveSecretEnv({ A: "hunter2" }, stores)).rejects.toThrow(
      /^spec\.secret_env\.A: expected a secret reference/,
    );
    expect(reads).toEqual([]);
  });

  it("passes a store's own error on, and refuses every reference when the plugin resolves none", async () => {
    await expect(resolveSecretEnv({ A: "secret://env/MISSING" }, stores)).rejects.toBeInstanceOf(NotFoundError);
    await expect(resolveSecretEnv({ A: "secret://env/X" }, {})).rejects.toThrow(/this plugin resolves none/);
    await expect(resolveSecretEnv({}, {})).resolves.toEqual({});
  });
});

describe("resolveSecretReference and the local stores", () => {
  const where = 'credentials["key"]';

  it("reads the plugin's environment and files", async () => {
    process.env.FLOTILLA_TEST_SECRET_STORE = "from-env";
    await expect(
      resolveSecretReference("secret://env/FLOTILLA_TEST_SECRET_STORE", localSecretStores, where),
    ).resolves.toBe("from-env");
    const dir = await mkdtemp(join(tmpdir(), "flotilla-secret-store-"));
    try {
      await writeFile(join(dir, "secret"), "from-file\n");
      await expect(resolveSecretReference(`secret://file/${dir}/secret`, localSecretStores, where)).resolves.toBe(
        "from-file",
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ["secret://env/FLOTILLA_TEST_SECRET_STORE_UNSET", /credentials\["key"\]: environment variable .* is not set/],
    ["secret://file/relative/path", /is not an absolute path; write secret:\/\/file\/\/ABSOLUTE\/PATH/],
    ["secret://file//nonexistent/flotilla/secret", /cannot read \/nonexistent\/flotilla\/secret: ENOENT/],
    ["secret://vault/x", /secret store "vault" .* use secret:\/\/env\/\.\.\. or secret:\/\/file\/\.\.\./],
  ])("refuses %s with InvalidArgument naming it", async (reference, message) => {
    const attempt = resolveSecretReference(reference, localSecretStores, where);
    await expect(attempt).rejects.toThrow(message);
    await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
