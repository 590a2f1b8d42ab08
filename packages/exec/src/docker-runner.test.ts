import { createServer, request as httpRequest, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import Docker from "dockerode";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DOCKER_API_VERSION, DockerRunner, registryOf } from "./docker-runner.js";
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

/** A request as it crossed the wire to the engine. */
interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * A transparent TCP-to-Unix-socket relay in front of the engine that records every request, so a test can
 * check what the runner's real dockerode client sent (API version, X-Registry-Auth) without mocking it.
 */
async function recordingRelay(socketPath: string): Promise<{ url: string; seen: SeenRequest[]; server: Server }> {
  const seen: SeenRequest[] = [];
  const server = createServer((incoming, outgoing) => {
    seen.push({ method: incoming.method ?? "GET", url: incoming.url ?? "/", headers: incoming.headers });
    const upstream = httpRequest(
      { socketPath, path: incoming.url, method: incoming.method, headers: incoming.headers },
      (answer) => {
        outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(outgoing);
      },
    );
    upstream.on("error", () => outgoing.destroy());
    incoming.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen, server };
}

/** Commits a container of TEST_IMAGE as `image` with `change` (a Dockerfile instruction), through the Engine API. */
async function commitImage(socketPath: string, image: string, change: string): Promise<void> {
  const docker = new Docker({ socketPath });
  const base = await docker.createContainer({ Image: TEST_IMAGE, Cmd: ["true"] });
  try {
    const [repo, tag] = image.split(":");
    const query = new URLSearchParams({
      container: base.id,
      repo: repo ?? image,
      tag: tag ?? "latest",
      changes: change,
    });
    await new Promise<void>((resolve, reject) => {
      const call = httpRequest(
        {
          socketPath,
          path: `/${DOCKER_API_VERSION}/commit?${query}`,
          method: "POST",
          headers: { "content-type": "application/json" },
        },
        (answer) => {
          answer.resume();
          answer.on("end", () =>
            answer.statusCode === 201 || answer.statusCode === 200
              ? resolve()
              : reject(new Error(`commit: HTTP ${answer.statusCode}`)),
          );
        },
      );
      call.on("error", reject);
      call.end("{}");
    });
  } finally {
    await base.remove({ force: true });
  }
}

describe("registryOf", () => {
  it("reads the registry of an image reference as Docker does", () => {
    expect(registryOf("busybox")).toBe("docker.io");
    expect(registryOf("acme/tool:1")).toBe("docker.io");
    expect(registryOf("ghcr.io/acme/tool:1")).toBe("ghcr.io");
    expect(registryOf("localhost/tool")).toBe("localhost");
    expect(registryOf("127.0.0.1:5000/tool")).toBe("127.0.0.1:5000");
  });
});

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

  it("runs the command in place of the image's ENTRYPOINT, as the other runners do", async () => {
    const image = "flotilla-test/entrypoint:1";
    await commitImage(podman.socketPath, image, 'ENTRYPOINT ["echo", "from-the-entrypoint"]');
    const lines: LogLine[] = [];
    const result = await runner.run(
      {
        image,
        command: ["sh", "-c", "echo from-the-command; exit 5"],
        jobIdentity: { jobId: "docker-test/entrypoint" },
      },
      { onLog: (line) => lines.push(line) },
    );
    expect(result).toMatchObject({ exitCode: 5, reason: "exited" });
    expect(lines.filter((l) => l.stream !== "system").map((l) => l.text)).toEqual(["from-the-command"]);
  });

  it("pins the Engine API version, pulls with the registry's credentials, and fails a pull whose stream reports an error", async () => {
    const relay = await recordingRelay(podman.socketPath);
    try {
      const asked: string[] = [];
      const pulling = new DockerRunner({
        host: relay.url,
        pull: "missing",
        registryAuth: (registry) => {
          asked.push(registry);
          return { username: "robot", password: "pa55", serveraddress: registry };
        },
      });
      // Nothing listens on port 1: the engine answers the pull with 200 and an error in its progress stream.
      const image = "127.0.0.1:1/flotilla-test/absent:1";
      const result = await pulling.run({ image, command: ["true"], jobIdentity: { jobId: "docker-test/pull" } });
      expect(result).toMatchObject({ reason: "failed", exitCode: 1 });
      expect(result.message).toMatch(
        /^could not pull image 127\.0\.0\.1:1\/flotilla-test\/absent:1: .*127\.0\.0\.1:1.*; check the image name and that the registry is reachable and accepts the credentials registryAuth gave$/,
      );
      expect(result.message).not.toMatch(/no such image/i);
      expect(asked).toEqual(["127.0.0.1:1"]);
      const pull = relay.seen.find((r) => r.method === "POST" && r.url.includes("/images/create"));
      const header = String(pull?.headers["x-registry-auth"] ?? "");
      expect(JSON.parse(Buffer.from(header, "base64url").toString("utf8"))).toEqual({
        username: "robot",
        password: "pa55",
        serveraddress: "127.0.0.1:1",
      });
      expect(relay.seen.length).toBeGreaterThan(1);
      for (const request of relay.seen)
        expect(request.url.startsWith(`/${DOCKER_API_VERSION}/`), request.url).toBe(true);
    } finally {
      relay.server.closeAllConnections();
      await new Promise((resolve) => relay.server.close(resolve));
    }
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
