import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { create } from "@bufbuild/protobuf";
import { CredentialReferenceSchema, InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { resolveGcpCredentials } from "./credentials.js";

const ref = (name: string, reference: string) => create(CredentialReferenceSchema, { name, reference });
const key = {
  type: "service_account",
  client_email: "jobs@p.iam.gserviceaccount.com",
  private_key: "PRIVATE-KEY-TEXT",
};

describe("resolveGcpCredentials", () => {
  it("uses Application Default Credentials when no reference is given", async () => {
    expect(await resolveGcpCredentials([])).toBeUndefined();
  });

  it("reads a service-account key from the environment or a file", async () => {
    process.env.FLOTILLA_TEST_GCP_KEY = JSON.stringify(key);
    expect(await resolveGcpCredentials([ref("service_account_key", "secret://env/FLOTILLA_TEST_GCP_KEY")])).toEqual(
      key,
    );
    const dir = await mkdtemp(join(tmpdir(), "flotilla-gcp-key-"));
    try {
      await writeFile(join(dir, "key.json"), JSON.stringify(key));
      expect(await resolveGcpCredentials([ref("service_account_key", `secret://file/${dir}/key.json`)])).toEqual(key);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it.each([
    [ref("access_key_id", "secret://env/X"), /unknown credential name; the gcp plugin accepts service_account_key/],
    [ref("service_account_key", "secret://env/FLOTILLA_TEST_GCP_UNSET"), /FLOTILLA_TEST_GCP_UNSET is not set/],
    [
      ref("service_account_key", "secret://vault/x"),
      /secret store "vault" .* use secret:\/\/env\/\.\.\. or secret:\/\/file\/\.\.\./,
    ],
    [ref("service_account_key", "secret://env/FLOTILLA_TEST_GCP_NOT_JSON"), /does not hold JSON/],
    [ref("service_account_key", "secret://env/FLOTILLA_TEST_GCP_NOT_KEY"), /is not a service-account key/],
  ])("refuses a bad reference naming it, never echoing a value (%#)", async (reference, message) => {
    process.env.FLOTILLA_TEST_GCP_NOT_JSON = "PRIVATE-KEY-TEXT {";
    process.env.FLOTILLA_TEST_GCP_NOT_KEY = JSON.stringify({ private_key: "PRIVATE-KEY-TEXT" });
    const error = await resolveGcpCredentials([reference]).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain("PRIVATE-KEY-TEXT");
  });
});
