import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { pinoLogSink } from "./log-sink.js";

describe("pinoLogSink", () => {
  it("writes one JSON record per plugin record, tagged with the plugin name and level", () => {
    const out: string[] = [];
    const dest = new Writable({
      write(chunk, _enc, done) {
        out.push(String(chunk));
        done();
      },
    });
    const sink = pinoLogSink(pino({ level: "trace" }, dest));
    sink({ plugin: "aws", level: "warn", message: "slow", fields: { ms: 5 }, source: "stderr" });
    const record = JSON.parse(out[0] ?? "{}");
    expect(record).toMatchObject({ plugin: "aws", level: 40, msg: "slow", ms: 5, source: "stderr" });
  });
});
