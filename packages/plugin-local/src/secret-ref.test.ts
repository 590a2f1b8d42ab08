import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError, NotFoundError } from "@flotilla/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { parseSecretRef, resolveSecretEnv, resolveSecretRef } from "./secret-ref.js";

const dir = mkdtempSync(join(tmpdir(), "flotilla-secret-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("secret references", () => {
  it("parses the env and file schemes", () => {
    expect(parseSecretRef("K", "secret://env/API_TOKEN")).toEqual({ scheme: "env", name: "API_TOKEN" });
    expect(parseSecretRef("K", "secret://file/db-password")).toEqual({ scheme: "file", fileName: "db-password" });
  });

  it("rejects malformed references naming the variable and the accepted forms", () => {
    expect(() => parseSecretRef("DB", "hunter2")).toThrow(InvalidArgumentError);
    expect(() => parseSecretRef("DB", "hunter2")).toThrow(/spec\.secret_env\.DB: .*secret:\/\/env\/VAR_NAME/);
    expect(() => parseSecretRef("DB", "secret://vault/x")).toThrow(/secret store "vault"/);
    expect(() => parseSecretRef("DB", "secret://env/1BAD")).toThrow(/does not name an environment variable/);
    expect(() => parseSecretRef("DB", "secret://file//etc/passwd")).toThrow(
      /must name a file in the local provider's secrets directory/,
    );
    expect(() => parseSecretRef("DB", "secret://file/..")).toThrow(/must name a file/);
  });

  it("resolves from the given environment and from the secrets directory without the trailing newline", async () => {
    writeFileSync(join(dir, "token"), "file-value\n");
    await expect(
      resolveSecretEnv({ A: "secret://env/SRC", B: "secret://file/token" }, { SRC: "env-value" }, dir),
    ).resolves.toEqual({ A: "env-value", B: "file-value" });
  });

  it("never puts the value in an error", async () => {
    const error = await resolveSecretRef("A", "secret://env/MISSING", { OTHER: "s3cr3t-value" }).catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toMatch(/spec\.secret_env\.A: secret:\/\/env\/MISSING is not set/);
    expect(error.message).not.toContain("s3cr3t-value");
    const missingFile = await resolveSecretRef("B", "secret://file/nope", {}, dir).catch((e) => e);
    expect(missingFile).toBeInstanceOf(NotFoundError);
    expect(missingFile.message).toMatch(/file .*nope does not exist \(the local provider's secrets_dir is /);
  });
});
