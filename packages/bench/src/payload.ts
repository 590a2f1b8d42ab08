/**
 * The benchmark's fixed call: IaCProviderService/Describe, whose response is
 * padded to exactly 64 bytes of protobuf so every transport carries the same
 * message a planning measurement used.
 */
import { create, toBinary } from "@bufbuild/protobuf";
import { type DescribeResponse, DescribeResponseSchema } from "@flotilla/protocol";

/** Encoded size of the response message, in bytes (without the 5-byte gRPC frame prefix). */
export const responseMessageBytes = 64;

function paddedDescribeResponse(): DescribeResponse {
  const fixed = create(DescribeResponseSchema, { name: "bench", version: "1.0.0" });
  // One capability string fills the rest: tag + length byte + characters.
  const remaining = responseMessageBytes - toBinary(DescribeResponseSchema, fixed).byteLength - 2;
  return create(DescribeResponseSchema, { ...fixed, capabilities: ["c".repeat(remaining)] });
}

/** The response every benchmark server returns. */
export const benchDescribeResponse: DescribeResponse = paddedDescribeResponse();

/** The same response as a gRPC length-prefixed frame, which the raw HTTP/2 floor sends verbatim. */
export function grpcFrame(message: Uint8Array): Buffer {
  const frame = Buffer.alloc(5 + message.byteLength);
  frame.writeUInt32BE(message.byteLength, 1);
  frame.set(message, 5);
  return frame;
}

/** The bytes of an empty gRPC request frame, what a Describe call sends. */
export const emptyRequestFrame: Buffer = grpcFrame(new Uint8Array(0));
