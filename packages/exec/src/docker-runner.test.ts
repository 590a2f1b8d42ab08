import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DockerRunner } from "./docker-runner.js";
import { type PodmanService, startPodmanService, TEST_IMAGE } from "./fixtures/podman.js";
import type { ManagedResource } from "./garbage-collector.js";
import { flotillaLabels, JOB_ID_ANNOTATION, runName } from "./job-names.js";
import type { LogLine } from "./sandbox-runner.js";

/**
 * This suite's containers only: other suites (the conformance suite) run against the same Podman
 * storage at the same time, and their containers are none of this suite's business.
 */
async function ours(runner: DockerRunner): Promise<ManagedResource[]> {
  return (await runner.listManaged()).filter((resource) => resource.jobId?.startsWith("docker-test/"));
}

describe("DockerRunner (local-docker) against Podman's Docker-compatible API", () => {
  let podman: PodmanService;
  let runner: DockerRunner;

  beforeAll(async () => {
    podman = await startPodmanService();
    runner = new DockerRunner({ socketPath: podman.socketPath, pull: "never" });
    // Containers an interrupted earlier run left behind would collide with these deterministic names.
    for (const leftover of await ours(runner)) await runner.deleteManaged(leftover.name);
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
        jobIdentity: { jobId: "docker-test/7" },
      },
      { onLog: (line) => lines.push(line) },
    );
    expect(result).toMatchObject({ exitCode: 7, reason: "exited", reused: false });
    expect(lines).toContainEqual({ stream: "stdout", text: "out" });
    expect(lines).toContainEqual({ stream: "stderr", text: "err" });
    expect(await ours(runner)).toEqual([]);
  });

  it("keeps a failed container for its retention time and lists it for the garbage collector", async () => {
    const keeping = new DockerRunner({ socketPath: podman.socketPath, pull: "never", failedRetentionMs: 60_000 });
    const result = await keeping.run({
      image: TEST_IMAGE,
      command: ["false"],
      jobIdentity: { jobId: "docker-test/kept-failed" },
    });
    expect(result.exitCode).toBe(1);
    const managed = await ours(keeping);
    expect(managed).toEqual([
      expect.objectContaining({ name: result.runName, jobId: "docker-test/kept-failed", state: "failed" }),
    ]);
    await keeping.deleteManaged(result.runName);
    expect(await ours(keeping)).toEqual([]);
  });

  it("reports an image the engine does not have as a failed run naming the image", async () => {
    const result = await runner.run({
      image: "flotilla-test/absent:1",
      command: ["true"],
      jobIdentity: { jobId: "docker-test/no-image" },
    });
    expect(result.reason).toBe("failed");
    expect(result.message).toContain("flotilla-test/absent:1");
  });

  it("a re-dispatch after a lost create response starts the container already created: exactly one run", async () => {
    const request = {
      image: TEST_IMAGE,
      command: ["sh", "-c", "echo done"],
      jobIdentity: { jobId: "docker-test/lost-response" },
    };
    const name = runName(request.jobIdentity);
    // An earlier dispatch created the container, then its host lost the response and died.
    await new Docker({ socketPath: podman.socketPath }).createContainer({
      name,
      Image: TEST_IMAGE,
      Cmd: request.command,
      Labels: { ...flotillaLabels(request.jobIdentity), [JOB_ID_ANNOTATION]: request.jobIdentity.jobId },
    });
    const lines: LogLine[] = [];
    const result = await runner.run(request, { onLog: (line) => lines.push(line) });
    expect(result).toMatchObject({ exitCode: 0, reused: true, runName: name });
    // The job's own output, once. On a freshly started Podman service the log stream of a container
    // started this way has been seen not to end; the runner then stops reading it after a bounded
    // wait and says so in a system warning line, which is fine here.
    expect(lines.filter((l) => l.stream !== "system").map((l) => l.text)).toEqual(["done"]);
    for (const line of lines.filter((l) => l.stream === "system")) expect(line.text).toMatch(/^warning: /);
    expect(await ours(runner)).toEqual([]);
  });

  it("concurrent dispatches of one identity in this process share one container", async () => {
    const request = {
      image: TEST_IMAGE,
      command: ["sh", "-c", "sleep 0.5; echo done"],
      jobIdentity: { jobId: "docker-test/twice" },
    };
    const [first, second] = await Promise.all([runner.run(request), runner.run(request)]);
    expect([first.reused, second.reused]).toEqual([false, true]);
    expect(first.runName).toBe(second.runName);
    expect(second.exitCode).toBe(0);
  });
});
