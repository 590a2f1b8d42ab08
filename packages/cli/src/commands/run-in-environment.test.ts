import { EventEmitter } from "node:events";
import { describe, expect, it } from "vitest";
import { capturedIo } from "../fixtures/streams.js";
import { runInEnvironment } from "./run-in-environment.js";

const base = {
  config: {},
  providerName: "local",
  env: {},
  secretEnv: {},
  timeoutMs: undefined,
  image: undefined,
  name: "test",
  verbose: false,
};

describe("runInEnvironment", () => {
  it("runs in the built-in local environment and returns the command's exit code", async () => {
    const io = capturedIo();
    const code = await runInEnvironment(
      { ...base, envName: "local", command: ["sh", "-c", "echo out; echo err >&2; exit 6"] },
      { ...io, signals: new EventEmitter() as unknown as NodeJS.Process },
    );
    expect(code).toBe(6);
    expect(io.out()).toBe("out\n");
    expect(io.err()).toContain("err\n");
  }, 60_000);

  it("aborts the run on SIGINT and returns 130", async () => {
    const io = capturedIo();
    const signals = new EventEmitter();
    const running = runInEnvironment(
      { ...base, envName: "local", command: ["sh", "-c", "echo started; sleep 60"] },
      { ...io, signals: signals as unknown as NodeJS.Process },
    );
    while (!io.out().includes("started")) await new Promise((r) => setTimeout(r, 20));
    signals.emit("SIGINT", "SIGINT");
    expect(await running).toBe(130);
  }, 60_000);
});
