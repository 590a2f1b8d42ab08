import { spawnSync } from "node:child_process";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
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

  it("writes to stderr by default, leaving stdout to the program that embeds the host", () => {
    // A fresh Node process, which strips the types of the imported .ts file itself.
    const sinkModule = fileURLToPath(new URL("./log-sink.ts", import.meta.url));
    const script = `const { pinoLogSink } = await import(${JSON.stringify(sinkModule)});
pinoLogSink()({ plugin: "aws", level: "info", message: "started", source: "stderr" });`;
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stdout).toBe("");
    expect(JSON.parse(result.stderr)).toMatchObject({ name: "flotilla", plugin: "aws", msg: "started" });
  });
});
