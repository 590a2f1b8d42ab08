import { once } from "node:events";
import { describe, expect, it } from "vitest";
import { spawnPlugin } from "./spawn.js";

function collect(stream: NodeJS.ReadableStream): Promise<string> {
  return new Promise((resolve) => {
    let out = "";
    stream.on("data", (d) => (out += d));
    stream.on("end", () => resolve(out));
  });
}

describe("spawnPlugin", () => {
  it("passes exactly the given environment and leads its own process group", async () => {
    const child = spawnPlugin({
      command: process.execPath,
      args: [
        "-e",
        "console.log(JSON.stringify({ env: process.env, pgid: require('node:child_process').execSync('ps -o pgid= -p ' + process.pid).toString().trim() }))",
      ],
      env: { ONLY: "this", PATH: process.env.PATH ?? "" },
    });
    const out = JSON.parse(await collect(child.stdout)) as { env: Record<string, string>; pgid: string };
    expect(Object.keys(out.env).sort()).toEqual(["ONLY", "PATH"]);
    expect(Number(out.pgid)).toBe(child.pid);
    expect(await child.exited).toEqual({ exitCode: 0 });
    expect(child.hasExited).toBe(true);
  });

  it("keeps stdin open until the host closes it", async () => {
    const child = spawnPlugin({
      command: process.execPath,
      args: ["-e", "process.stdin.pipe(process.stdout); process.stdin.on('end', () => process.exit(5))"],
      env: {},
    });
    // An echo proves the pipe open end to end and the plugin still reading: it has not seen EOF.
    child.stdin.write("still open\n");
    const answer = await Promise.race([
      once(child.stdout, "data").then(([echoed]) => String(echoed)),
      child.exited.then((exit) => `exited before the echo: ${JSON.stringify(exit)}`),
    ]);
    expect(answer).toBe("still open\n");
    expect(child.hasExited).toBe(false);
    child.stdin.end();
    expect(await child.exited).toEqual({ exitCode: 5 });
  });

  it("signals the whole group and reports the signal", async () => {
    const child = spawnPlugin({ command: process.execPath, args: ["-e", "setInterval(() => {}, 1000)"], env: {} });
    await new Promise((r) => setTimeout(r, 100));
    expect(child.signalGroup("SIGKILL")).toBe(true);
    expect(await child.exited).toMatchObject({ signal: "SIGKILL" });
    expect(child.signalGroup("SIGKILL")).toBe(false);
  });

  it("reports a command that cannot be started instead of throwing", async () => {
    const child = spawnPlugin({ command: "/nonexistent/plugin", args: [], env: {} });
    const exit = await child.exited;
    expect(exit.spawnError).toContain("ENOENT");
  });
});
