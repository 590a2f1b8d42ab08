import { describe, expect, it } from "vitest";
import { SignerLog } from "./signer-log.js";

describe("SignerLog", () => {
  it("records the access key id from each SigV4 Authorization header", () => {
    const log = new SignerLog();
    log.record(
      "RunTask",
      "AWS4-HMAC-SHA256 Credential=AKIDONE/20260101/eu-west-1/ecs/aws4_request, SignedHeaders=host, Signature=x",
    );
    log.record("RunTask", undefined);
    expect(log.accessKeyIds("RunTask")).toEqual(["AKIDONE", "(unsigned)"]);
    expect(log.accessKeyIds("StopTask")).toEqual([]);
  });
});
