import { toBinary } from "@bufbuild/protobuf";
import { DescribeResponseSchema } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { benchDescribeResponse, emptyRequestFrame, grpcFrame, responseMessageBytes } from "./payload.js";

describe("benchDescribeResponse", () => {
  it("encodes to exactly the advertised 64 bytes", () => {
    expect(responseMessageBytes).toBe(64);
    expect(toBinary(DescribeResponseSchema, benchDescribeResponse).byteLength).toBe(64);
  });
});

describe("grpcFrame", () => {
  it("prefixes an uncompressed flag and the big-endian length", () => {
    const frame = grpcFrame(new Uint8Array([7, 8, 9]));
    expect([...frame]).toEqual([0, 0, 0, 0, 3, 7, 8, 9]);
    expect([...emptyRequestFrame]).toEqual([0, 0, 0, 0, 0]);
  });
});
