import { describe, expect, it } from "vitest";
import { PluginError } from "./plugin-error.js";

describe("PluginError", () => {
  it("names the plugin, the phase, the timeout, the exit and the stderr tail", () => {
    const err = new PluginError("no handshake line", {
      plugin: "aws",
      phase: "handshake",
      timeoutMs: 5000,
      exitCode: 3,
      signal: "SIGKILL",
      stderrTail: ["panic: boom", "at main"],
    });
    expect(err.message).toContain('plugin "aws" failed during handshake: no handshake line');
    expect(err.message).toContain("timeout 5000 ms");
    expect(err.message).toContain("exit code 3");
    expect(err.message).toContain("killed by SIGKILL");
    expect(err.message).toContain("  | panic: boom\n  | at main");
    expect(err).toMatchObject({ plugin: "aws", phase: "handshake", timeoutMs: 5000, exitCode: 3 });
  });

  it("says so when the plugin wrote nothing to stderr and keeps the cause", () => {
    const cause = new Error("ECONNREFUSED");
    const err = new PluginError("cannot connect", { plugin: "gcp", phase: "connect", cause });
    expect(err.message).toContain("it wrote nothing to stderr");
    expect(err.cause).toBe(cause);
    expect(err.timeoutMs).toBeUndefined();
  });
});
