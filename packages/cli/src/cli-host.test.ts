import { describe, expect, it } from "vitest";
import { formatLogRecord } from "./cli-host.js";

describe("formatLogRecord", () => {
  it("renders a plugin log record as one line naming the plugin", () => {
    expect(
      formatLogRecord({
        plugin: "aws",
        level: "warn",
        message: "throttled",
        fields: { retry: 2, op: "RunTask" },
        source: "stderr",
      }),
    ).toBe("[plugin aws] warn: throttled retry=2 op=RunTask\n");
  });
});
