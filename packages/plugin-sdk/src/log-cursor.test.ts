import { InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { decodeLogCursor, encodeLogCursor, LOG_HEAD, type LogPosition } from "./log-cursor.js";

const decode = (cursor: string) => decodeLogCursor(cursor, { issuer: "acme" });
const encoded = (json: string) => Buffer.from(json).toString("base64url");

describe("log cursors", () => {
  it.each<LogPosition>([
    { token: "f/000000010000", skip: 0 },
    { token: "f/000000000007", skip: 2 },
    { token: "", skip: 5 },
    { token: "ünïcødé/+=", skip: 1 },
    { token: undefined, skip: 3 },
    { token: undefined, skip: 0 },
  ])("decode(encode(%o)) is the position encoded", (position) => {
    expect(decode(encodeLogCursor(position))).toStrictEqual(position);
  });

  it("is text a caller can pass around as is: URL- and JSON-safe, no padding", () => {
    expect(encodeLogCursor({ token: "a/b+c=d?e", skip: 12 })).toMatch(/^[A-Za-z0-9_-]+$/);
  });

  it("reads the empty cursor as the head of the log", () => {
    expect(decode("")).toStrictEqual(LOG_HEAD);
    expect(LOG_HEAD).toStrictEqual({ token: undefined, skip: 0 });
  });

  it.each([
    ["not base64 JSON", "garbage!"],
    ["a negative skip", encoded('{"v":1,"t":"f/1","n":-1}')],
    ["a fractional skip", encoded('{"v":1,"t":"f/1","n":1.5}')],
    ["no skip", encoded('{"v":1,"t":"f/1"}')],
    ["a token that is not a string", encoded('{"v":1,"t":7,"n":0}')],
    ["no version", encoded('{"t":"f/1","n":0}')],
    ["JSON null", encoded("null")],
    ["a JSON string", encoded('"f/1"')],
  ])("refuses %s with InvalidArgument naming the field and the fix", (_name, cursor) => {
    expect(() => decode(cursor)).toThrow(InvalidArgumentError);
    expect(() => decode(cursor)).toThrow(
      "JobLogsRequest.cursor: not a cursor the acme plugin issued; pass a LogLine.cursor from an earlier JobLogs stream, or empty to start at the beginning",
    );
  });

  it("refuses a cursor of a newer format, saying so rather than calling it foreign", () => {
    expect(() => decode(encoded('{"v":2,"t":"f/1","n":0,"x":"new"}'))).toThrow(
      /^JobLogsRequest\.cursor: written in cursor format 2, newer than the acme plugin reads \(up to 1\); resume with the plugin version that issued it/,
    );
  });

  it("names the field it is told", () => {
    expect(() => decodeLogCursor("garbage!", { issuer: "acme", field: "--cursor" })).toThrow(/^--cursor: not a cursor/);
  });

  it.each([-1, 0.5, Number.NaN])("refuses to encode a skip of %s", (skip) => {
    expect(() => encodeLogCursor({ token: undefined, skip })).toThrow(/skip must be a whole number >= 0/);
  });
});
