import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import { afterEach, describe, expect, it } from "vitest";
import { killProcessesWithArgument, processesWithArgument } from "./proc-scan.js";

describe("processesWithArgument", () => {
  let child: ChildProcess | undefined;
  afterEach(() => {
    child?.kill("SIGKILL");
  });

  it("finds a live process by its marker argument, and no longer once it is killed", async () => {
    const marker = `marker-${randomUUID()}`;
    child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", marker], { stdio: "ignore" });
    const exited = new Promise((resolve) => child?.on("exit", resolve));
    await new Promise((resolve) => child?.on("spawn", resolve));
    expect(await processesWithArgument(marker)).toEqual([child.pid]);
    await killProcessesWithArgument(marker);
    await exited;
    expect(await processesWithArgument(marker)).toEqual([]);
  });

  it("does not match a marker that is only part of an argument", async () => {
    const marker = `marker-${randomUUID()}`;
    child = spawn(process.execPath, ["-e", "setInterval(() => {}, 1000)", `${marker}-longer`], { stdio: "ignore" });
    await new Promise((resolve) => child?.on("spawn", resolve));
    expect(await processesWithArgument(marker)).toEqual([]);
  });
});
