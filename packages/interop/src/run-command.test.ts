import { describe, expect, it } from "vitest";
import { CommandError, runCommand } from "./run-command.js";

describe("runCommand", () => {
  it("returns what the command printed", async () => {
    const result = await runCommand(process.execPath, [
      "-e",
      "process.stdout.write('out'); process.stderr.write('err')",
    ]);
    expect(result).toEqual({ stdout: "out", stderr: "err" });
  });

  it("feeds input to stdin", async () => {
    const result = await runCommand(process.execPath, ["-e", "process.stdin.pipe(process.stdout)"], { input: "echo" });
    expect(result.stdout).toBe("echo");
  });

  it("names the command, its status and the end of its stderr when it fails", async () => {
    const failing = runCommand(process.execPath, ["-e", "console.error('the reason'); process.exit(3)"]);
    await expect(failing).rejects.toThrow(CommandError);
    await expect(failing).rejects.toMatchObject({ exitCode: 3 });
    await expect(failing).rejects.toThrow(/exited with status 3[\s\S]*the reason/);
  });

  it("kills a command that outlives its timeout", async () => {
    const hanging = runCommand(process.execPath, ["-e", "setInterval(() => {}, 1000)"], { timeoutMs: 200 });
    await expect(hanging).rejects.toThrow(/timed out after 200 ms/);
  });

  it("says so when the command does not exist", async () => {
    await expect(runCommand("flotilla-no-such-tool", [])).rejects.toThrow(/flotilla-no-such-tool` could not start/);
  });
});
