import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { CredentialReferenceSchema, InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { resolveAwsCredentials } from "./credentials.js";

const ref = (name: string, reference: string) => create(CredentialReferenceSchema, { name, reference });

describe("resolveAwsCredentials", () => {
  it("uses the standard credential chain when no references are given", async () => {
    await expect(resolveAwsCredentials([])).resolves.toBeUndefined();
  });

  it("resolves secret://env/ and secret://file// references inside the plugin", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aws-cred-"));
    try {
      await writeFile(join(dir, "secret"), "file-secret\n");
      process.env.CRED_TEST_KEY = "AKIDENV";
      const credentials = await resolveAwsCredentials([
        ref("access_key_id", "secret://env/CRED_TEST_KEY"),
        ref("secret_access_key", `secret://file/${join(dir, "secret")}`),
      ]);
      expect(credentials).toEqual({ accessKeyId: "AKIDENV", secretAccessKey: "file-secret" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects unknown names, unset variables, other schemes and half a key pair", async () => {
    await expect(resolveAwsCredentials([ref("password", "secret://env/X")])).rejects.toThrow(
      /unknown credential name; the aws plugin accepts access_key_id/,
    );
    delete process.env.CRED_TEST_UNSET;
    await expect(resolveAwsCredentials([ref("access_key_id", "secret://env/CRED_TEST_UNSET")])).rejects.toThrow(
      /CRED_TEST_UNSET is not set/,
    );
    await expect(resolveAwsCredentials([ref("access_key_id", "secret://vault/x")])).rejects.toThrow(
      /secret store "vault" in "secret:\/\/vault\/x" is not one this plugin resolves; use secret:\/\/env\/\.\.\. or secret:\/\/file\/\.\.\./,
    );
    // A relative file would depend on the plugin's working folder.
    await expect(resolveAwsCredentials([ref("access_key_id", "secret://file/key")])).rejects.toThrow(
      /"key" is not an absolute path; write secret:\/\/file\/\/ABSOLUTE\/PATH/,
    );
    // Not a reference at all: refused without echoing it.
    const plain = await resolveAwsCredentials([ref("access_key_id", "AKIAPLAINVALUE")]).catch((e: Error) => e);
    expect((plain as Error).message).toMatch(/^credentials\["access_key_id"\]: expected a secret reference/);
    expect((plain as Error).message).not.toContain("AKIAPLAINVALUE");
    process.env.CRED_TEST_KEY = "AKIDENV";
    await expect(resolveAwsCredentials([ref("access_key_id", "secret://env/CRED_TEST_KEY")])).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });
});
