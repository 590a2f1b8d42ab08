import { describe, expect, it } from "vitest";
import { parsePluginLogLine, redact } from "./log-record.js";

describe("parsePluginLogLine", () => {
  it("keeps level, message, timestamp and fields of an hclog JSON line", () => {
    const line = JSON.stringify({
      "@level": "warn",
      "@message": "throttled",
      "@timestamp": "2026-01-01T00:00:00.000Z",
      "@module": "aws.ecs",
      retries: 3,
    });
    expect(parsePluginLogLine("aws", "stderr", line)).toEqual({
      plugin: "aws",
      level: "warn",
      message: "throttled",
      timestamp: "2026-01-01T00:00:00.000Z",
      fields: { retries: 3, module: "aws.ecs" },
      source: "stderr",
    });
  });

  it("turns other lines, including other JSON, into raw info records", () => {
    expect(parsePluginLogLine("p", "stdout", "panic: oh no")).toMatchObject({ level: "info", message: "panic: oh no" });
    expect(parsePluginLogLine("p", "stderr", '{"a":1}')).toMatchObject({ level: "info", message: '{"a":1}' });
    expect(parsePluginLogLine("p", "stderr", "{not json}")).toMatchObject({ message: "{not json}" });
  });

  it("maps unknown levels to info", () => {
    expect(parsePluginLogLine("p", "stderr", '{"@level":"loud","@message":"x"}').level).toBe("info");
  });
});

describe("redact", () => {
  it("masks secret values anywhere in strings, arrays and objects", () => {
    const value = { message: "key=s3cr3t-value ok", nested: ["s3cr3t-value", 1], n: 2 };
    expect(redact(value, ["s3cr3t-value"])).toEqual({
      message: "key=[REDACTED] ok",
      nested: ["[REDACTED]", 1],
      n: 2,
    });
  });
});
