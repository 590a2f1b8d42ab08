import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { eventually, isProcessRunning, processesMatching, zombieChildren } from "@flotilla/test-support";
import { afterEach, describe, expect, it } from "vitest";
import { fakePluginConfig, newMarker } from "./fixtures/fake-plugin.js";
import { PluginHost } from "./plugin-manager.js";

const hostScript = fileURLToPath(new URL("./fixtures/host-script.mjs", import.meta.url));
const builtEntry = fileURLToPath(new URL("../../dist/index.js", import.meta.url));
let marker = newMarker();

afterEach(async () => {
  for (const p of processesMatching(marker)) process.kill(p.pid, "SIGKILL");
  marker = newMarker();
});

describe("no orphans and no zombies", () => {
  it("plugins exit when their host is killed with SIGKILL, even one that ignores stdin EOF and SIGTERM", async () => {
    expect(existsSync(builtEntry), `run "tsc -b" first: the host script imports ${builtEntry}`).toBe(true);
    const plugins = [`fake:${marker}`, `sdk:${marker}`, `stubborn:${marker}`];
    const child = spawn(process.execPath, [hostScript, ...plugins], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    const pids = await new Promise<number[]>((resolve, reject) => {
      child.stdout.once("data", (d) => resolve(JSON.parse(String(d)) as number[]));
      child.once("exit", (code) =>
        reject(new Error(`host script exited with ${code} before starting plugins:\n${stderr}`)),
      );
    });
    expect(pids).toHaveLength(3);
    // The stubborn plugin's grandchild is running too: 3 plugins + 1 grandchild carry the marker.
    const plugin = () => processesMatching(marker).filter((p) => p.pid !== child.pid);
    expect(await eventually(() => plugin().length === 4), JSON.stringify(processesMatching(marker))).toBe(true);
    // isProcessRunning reads /proc state and counts a zombie as exited: a zombie runs no code, and
    // here PID 1 reaps orphaned zombies only about a second later, which is not the plugin's doing.
    expect(pids.every(isProcessRunning)).toBe(true);
    const exited = new Promise((resolve) => child.once("exit", resolve));
    const killedAt = Date.now();
    child.kill("SIGKILL");
    await exited;
    // How fast they go is the bench's business; here the bound is only generous enough for a loaded machine.
    const allGone = await eventually(
      () => !pids.some(isProcessRunning) && processesMatching(marker).length === 0,
      20_000,
    );
    expect(
      allGone,
      `still running ${Date.now() - killedAt} ms after the host died: ${JSON.stringify(processesMatching(marker))}`,
    ).toBe(true);
  });

  it("starting and stopping plugins 200 times leaves no process and no zombie behind", {
    timeout: 480_000,
  }, async () => {
    const host = new PluginHost({ logSink: () => {} });
    const perRound = 4;
    for (let round = 0; round < 200 / perRound; round++) {
      const configs = Array.from({ length: perRound }, (_, i) =>
        fakePluginConfig("ok", marker, { name: `p${i}`, autoMtls: i % 2 === 0 }),
      );
      await host.start(configs);
      expect(host.list().every((p) => p.state === "ready")).toBe(true);
      await host.stop();
    }
    expect(await eventually(() => processesMatching(marker).length === 0)).toBe(true);
    expect(zombieChildren()).toEqual([]);
  });
});
