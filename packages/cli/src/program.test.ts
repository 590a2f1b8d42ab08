import { describe, expect, it } from "vitest";
import { CliError } from "./cli-error.js";
import { ConfigError } from "./config/config-error.js";
import { capturedIo } from "./fixtures/streams.js";
import { reportError, runCli } from "./program.js";

const argv = (...args: string[]) => ["node", "flotilla", ...args];

describe("runCli", () => {
  it("prints help and version with exit code 0", async () => {
    const io = capturedIo();
    expect(await runCli(argv("--help"), io)).toBe(0);
    expect(io.out()).toMatch(/Usage: flotilla/);
    const version = capturedIo();
    expect(await runCli(argv("--version"), version)).toBe(0);
    expect(version.out()).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it("rejects unknown commands and bad options with exit code 2", async () => {
    const io = capturedIo();
    expect(await runCli(argv("launch"), io)).toBe(2);
    expect(io.err()).toMatch(/unknown command 'launch'/);
    const bad = capturedIo();
    expect(await runCli(argv("run", "-e", "NOEQUALS", "--", "true"), bad)).toBe(2);
    expect(bad.err()).toMatch(/-e "NOEQUALS": expected KEY=VALUE/);
  });
});

describe("reportError", () => {
  it("prints operator errors without a stack and picks the exit code", () => {
    const io = capturedIo();
    expect(reportError(new CliError("no such job", 1), io.stderr)).toBe(1);
    expect(reportError(new ConfigError("f.yaml", ["plugins.x.command: missing"]), io.stderr)).toBe(2);
    expect(reportError(new Error("boom"), io.stderr)).toBe(2);
    expect(io.err()).toBe(
      "flotilla: no such job\nflotilla: f.yaml is not a valid Flotilla config:\n  - plugins.x.command: missing\nflotilla: Error: boom\n",
    );
  });
});
