import { describe, expect, it } from "vitest";
import { runCommand } from "./run.js";

const io = () => ({
  stdout: process.stdout,
  stderr: process.stderr,
  progress: { update() {}, succeed() {}, fail() {}, clear() {} },
});

// The behaviour of `flotilla run` (streaming, exit codes, Ctrl-C, --env) is tested on the real binary in ../main.test.ts.
describe("runCommand", () => {
  it("rejects input before starting anything", async () => {
    await expect(runCommand([], {}, io())).rejects.toThrow(/no command given; put it after --/);
    await expect(runCommand(["true"], { secret: { T: "plain" } }, io())).rejects.toThrow(
      /--secret T: expected a secret reference/,
    );
    await expect(runCommand(["true"], { timeout: "10" }, io())).rejects.toThrow(/--timeout: "10" is not a duration/);
    await expect(runCommand(["true"], { provider: "nope" }, io())).rejects.toThrow(/provider "nope" is not configured/);
  });
});
