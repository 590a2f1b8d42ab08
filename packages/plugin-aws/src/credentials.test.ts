import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { create } from "@bufbuild/protobuf";
import { CredentialReferenceSchema, InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { resolveAwsCredentials } from "./credentials.js";

const ref = (name: string, reference: string) => create(CredentialReferenceSchema, { name, reference });

describe("resolveAwsCredentials", () => {
  it("uses the standard credential chain when no references are given", async () => {
    await expect(resolveAwsCredentials([])).resolves.toBeUndefined();
  });

  it("resolves env:// and file:// references inside the plugin", async () => {
    const dir = await mkdtemp(join(tmpdir(), "aws-cred-"));
    try {
      await writeFile(join(dir, "secret"), "file-secret\n");
      process.env.CRED_TEST_KEY = "AKIDENV";
      const credentials = await resolveAwsCredentials([
        ref("access_key_id", "env://CRED_TEST_KEY"),
        ref("secret_access_key", pathToFileURL(join(dir, "secret")).href),
      ]);
      expect(credentials).toEqual({ accessKeyId: "AKIDENV", secretAccessKey: "file-secret" });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it("rejects unknown names, unset variables, other schemes and half a key pair", async () => {
    await expect(resolveAwsCredentials([ref("password", "env://X")])).rejects.toThrow(
      /unknown credential name; the aws plugin accepts access_key_id/,
    );
    delete process.env.CRED_TEST_UNSET;
    await expect(resolveAwsCredentials([ref("access_key_id", "env://CRED_TEST_UNSET")])).rejects.toThrow(
      /CRED_TEST_UNSET is not set/,
    );
    await expect(resolveAwsCredentials([ref("access_key_id", "secret://vault/x")])).rejects.toThrow(
      /got scheme "secret"/,
    );
    process.env.CRED_TEST_KEY = "AKIDENV";
    await expect(resolveAwsCredentials([ref("access_key_id", "env://CRED_TEST_KEY")])).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
  });
});
