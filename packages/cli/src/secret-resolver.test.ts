import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { localSecretResolver, SECRETS_DIR_ENV } from "./secret-resolver.js";

const dir = mkdtempSync(join(tmpdir(), "flotilla-secrets-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("localSecretResolver", () => {
  it("reads env and file references", async () => {
    writeFileSync(join(dir, "db-password"), "pw-from-file\n");
    const resolve = localSecretResolver({ TOKEN: "tok", [SECRETS_DIR_ENV]: dir });
    await expect(resolve("secret://env/TOKEN")).resolves.toBe("tok");
    await expect(resolve("secret://file/db-password")).resolves.toBe("pw-from-file");
  });

  it("explains missing and unsupported references without values", async () => {
    const resolve = localSecretResolver({ OTHER: "s3cr3t", [SECRETS_DIR_ENV]: dir });
    await expect(resolve("secret://env/MISSING")).rejects.toThrow(/MISSING is not set/);
    await expect(resolve("secret://vault/x")).rejects.toThrow(
      /resolves only secret:\/\/env\/NAME and secret:\/\/file\/NAME/,
    );
    await expect(resolve("secret://file/none")).rejects.toThrow(/cannot read .*none \(ENOENT\)/);
    await expect(resolve("secret://file/..")).rejects.toThrow(/must name a file/);
  });
});
