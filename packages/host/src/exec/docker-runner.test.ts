import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerRunner } from "./docker-runner.js";
import type { LogLine } from "./sandbox-runner.js";
import { type PodmanService, startPodmanService, TEST_IMAGE } from "./test-podman.js";

describe("DockerRunner (local-docker) against Podman's Docker-compatible API", () => {
  let podman: PodmanService;
  let runner: DockerRunner;

  beforeAll(async () => {
    podman = await startPodmanService();
    runner = new DockerRunner({ socketPath: podman.socketPath, pull: "never" });
    // Containers an interrupted earlier run left behind would collide with these deterministic names.
    for (const leftover of await runner.listManaged()) await runner.deleteManaged(leftover.name);
  }, 600_000);
  afterAll(async () => {
    await podman?.stop();
  });

  it("runs a container, demultiplexes stdout and stderr, returns the real exit code and removes it", async () => {
    const lines: LogLine[] = [];
    const result = await runner.run(
      {
        image: TEST_IMAGE,
        command: ["sh", "-c", "echo out; echo err >&2; exit 7"],
        env: { A: "1" },
        jobIdentity: { jobId: "docker-7" },
      },
      { onLog: (line) => lines.push(line) },
    );
    expect(result).toMatchObject({ exitCode: 7, reason: "exited", reused: false });
    expect(lines).toContainEqual({ stream: "stdout", text: "out" });
    expect(lines).toContainEqual({ stream: "stderr", text: "err" });
    expect(await runner.listManaged()).toEqual([]);
  });

  it("keeps a failed container for its retention time and lists it for the garbage collector", async () => {
    const keeping = new DockerRunner({ socketPath: podman.socketPath, pull: "never", failedRetentionMs: 60_000 });
    const result = await keeping.run({ image: TEST_IMAGE, command: ["false"], jobIdentity: { jobId: "kept/failed" } });
    expect(result.exitCode).toBe(1);
    const managed = await keeping.listManaged();
    expect(managed).toEqual([expect.objectContaining({ name: result.runName, jobId: "kept/failed", state: "failed" })]);
    await keeping.deleteManaged(result.runName);
    expect(await keeping.listManaged()).toEqual([]);
  });

  it("reports an image the engine does not have as a failed run naming the image", async () => {
    const result = await runner.run({
      image: "flotilla-test/absent:1",
      command: ["true"],
      jobIdentity: { jobId: "no-image" },
    });
    expect(result.reason).toBe("failed");
    expect(result.message).toContain("flotilla-test/absent:1");
  });

  it("a re-dispatch of the same identity follows the existing container instead of creating a second", async () => {
    const request = { image: TEST_IMAGE, command: ["sh", "-c", "sleep 1; echo done"], jobIdentity: { jobId: "twice" } };
    const [first, second] = await Promise.all([runner.run(request), runner.run(request)]);
    expect([first.reused, second.reused].sort()).toEqual([false, true]);
    expect(first.runName).toBe(second.runName);
    expect(first.exitCode).toBe(0);
  });
});
