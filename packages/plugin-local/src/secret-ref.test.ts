import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError, NotFoundError } from "@flotilla/protocol";
import { afterAll, describe, expect, it } from "vitest";
import { parseLocalSecretReference, resolveLocalSecret, resolveSecretEnv } from "./secret-ref.js";

const dir = mkdtempSync(join(tmpdir(), "flotilla-secret-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("this machine's secret stores", () => {
  it("parses the env and file stores", () => {
    expect(parseLocalSecretReference("secret://env/API_TOKEN", "K")).toEqual({ store: "env", name: "API_TOKEN" });
    expect(parseLocalSecretReference("secret://file/db-password", "K")).toEqual({
      store: "file",
      fileName: "db-password",
    });
  });

  it("rejects malformed references naming the place and the accepted forms", () => {
    const where = "spec.secret_env.DB";
    expect(() => parseLocalSecretReference("hunter2", where)).toThrow(InvalidArgumentError);
    expect(() => parseLocalSecretReference("hunter2", where)).toThrow(
      /^spec\.secret_env\.DB: expected a secret reference/,
    );
    expect(() => parseLocalSecretReference("secret://vault/x", where)).toThrow(
      /secret store "vault" in "secret:\/\/vault\/x" is not resolved on this machine .*secret:\/\/env\/VAR_NAME/,
    );
    expect(() => parseLocalSecretReference("secret://arn:aws:ssm:eu-west-1:1:parameter/x", where)).toThrow(
      /secret store "arn"/,
    );
    expect(() => parseLocalSecretReference("secret://env/1BAD", where)).toThrow(
      /does not name an environment variable/,
    );
    expect(() => parseLocalSecretReference("secret://file//etc/passwd", where)).toThrow(
      /must name a file in the secrets directory/,
    );
    // Only the whole name counts: a valid start does not carry the rest along.
    expect(() => parseLocalSecretReference("secret://env/API_TOKEN-2", where)).toThrow(
      /does not name an environment variable/,
    );
    expect(() => parseLocalSecretReference("secret://file/db/../../etc/shadow", where)).toThrow(
      /must name a file in the secrets directory/,
    );
    expect(() => parseLocalSecretReference("secret://file/..", where)).toThrow(/must name a file/);
    expect(() => parseLocalSecretReference("secret://file/.", where)).toThrow(/must name a file/);
  });

  it("resolves from the given environment and from the secrets directory without one trailing newline", async () => {
    writeFileSync(join(dir, "token"), "file-value\n");
    writeFileSync(join(dir, "crlf"), "crlf-value\r\n");
    writeFileSync(join(dir, "two"), "two-lines\n\n");
    writeFileSync(join(dir, "bare"), "bare-value");
    await expect(
      resolveSecretEnv(
        {
          A: "secret://env/SRC",
          B: "secret://file/token",
          C: "secret://file/crlf",
          D: "secret://file/two",
          E: "secret://file/bare",
        },
        { environment: { SRC: "env-value" }, secretsDir: dir },
      ),
    ).resolves.toEqual({ A: "env-value", B: "file-value", C: "crlf-value", D: "two-lines\n", E: "bare-value" });
  });

  it("never puts the value in an error", async () => {
    const stores = { environment: { OTHER: "s3cr3t-value" }, secretsDir: dir };
    const error = await resolveLocalSecret("secret://env/MISSING", "spec.secret_env.A", stores).catch((e) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect(error.message).toMatch(/^spec\.secret_env\.A: secret:\/\/env\/MISSING is not set in the local provider's/);
    expect(error.message).not.toContain("s3cr3t-value");
    const hinted = await resolveLocalSecret("secret://env/MISSING", "A", {
      ...stores,
      missingVariableHint: "here",
    }).catch((e) => e);
    expect(hinted.message).toBe("A: secret://env/MISSING is not set in here");
    const missingFile = await resolveLocalSecret("secret://file/nope", "B", stores).catch((e) => e);
    expect(missingFile).toBeInstanceOf(NotFoundError);
    expect(missingFile.message).toBe(
      `B: secret://file/nope: file ${join(dir, "nope")} does not exist (secrets_dir is ${dir})`,
    );
    // Something there that is not a readable file: the error says what the system answered.
    mkdirSync(join(dir, "a-directory"), { recursive: true });
    const notAFile = await resolveLocalSecret("secret://file/a-directory", "C", stores).catch((e) => e);
    expect(notAFile).toBeInstanceOf(InvalidArgumentError);
    expect(notAFile.message).toBe(`C: secret://file/a-directory: could not read ${join(dir, "a-directory")} (EISDIR)`);
    // Without a secrets_dir, files are read from /run/secrets.
    const defaultDir = await resolveLocalSecret("secret://file/flotilla-test-absent", "D", {
      environment: {},
    }).catch((e) => e);
    expect(defaultDir.message).toBe(
      "D: secret://file/flotilla-test-absent: file /run/secrets/flotilla-test-absent does not exist (secrets_dir is /run/secrets)",
    );
  });

  it("refuses a job whose references include a store it does not resolve before reading any", async () => {
    const environment = {
      get SRC(): string {
        throw new Error("read a secret although another reference of the job was refused");
      },
    } as unknown as NodeJS.ProcessEnv;
    await expect(
      resolveSecretEnv({ A: "secret://env/SRC", B: "secret://vault/x" }, { environment, secretsDir: dir }),
    ).rejects.toThrow(
      /^spec\.secret_env\.B: secret store "vault" .* use secret:\/\/env\/\.\.\. or secret:\/\/file\/\.\.\.$/,
    );
  });
});
