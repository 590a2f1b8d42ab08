import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { PostgresJournal } from "@flotilla/jobs/postgres";
import { hostv1, JobSpecSchema, JobState, LogStream } from "@flotilla/protocol";
import { generateCertificate, health } from "@flotilla/protocol/wire";
import { startPostgres } from "@flotilla/test-support/postgres";
import { afterAll, afterEach, describe, expect, it } from "vitest";

const cliMain = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
/** The buf CLI the repository installs (for its contract checks): a generic gRPC client here. */
const buf = fileURLToPath(new URL("../../../../node_modules/.bin/buf", import.meta.url));
const dir = mkdtempSync(join(tmpdir(), "flotilla-serve-"));
const TOKEN = "serve-test-token-7f3a";
// The test's own journal and state directory, never the user's.
writeFileSync(join(dir, "flotilla.yaml"), "journal: journal.db\n");
const servers: ChildProcess[] = [];

afterEach(() => {
  for (const child of servers.splice(0))
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Served {
  child: ChildProcess;
  address: string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts the real `flotilla serve` and waits for the address it prints. */
async function serve(args: string[], env: Record<string, string> = {}): Promise<Served> {
  const child = spawn(process.execPath, [cliMain, "serve", ...args], {
    cwd: dir,
    env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, XDG_STATE_HOME: join(dir, "state"), ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  servers.push(child);
  let stdout = "";
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout?.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      if (stdout.includes("\n")) resolve(stdout.split("\n")[0] as string);
    });
    void exited.then((code) => reject(new Error(`flotilla serve exited with ${code} before listening:\n${stderr}`)));
  });
  return { child, address, stderr: () => stderr, exited };
}

type Protocol = "grpc" | "grpc-web" | "connect";

function transport(address: string, protocol: Protocol, token?: string): Transport {
  const baseUrl = `http://${address}`;
  const interceptors = token
    ? [
        (next: Parameters<NonNullable<Parameters<typeof createGrpcTransport>[0]["interceptors"]>[number]>[0]) =>
          async (request: Parameters<typeof next>[0]) => {
            request.header.set("authorization", `Bearer ${token}`);
            return next(request);
          },
      ]
    : [];
  const options = { baseUrl, httpVersion: "2" as const, interceptors };
  if (protocol === "grpc") return createGrpcTransport(options);
  if (protocol === "grpc-web") return createGrpcWebTransport(options);
  return createConnectTransport(options);
}

function spec(command: string[], idempotencyKey = "") {
  return create(JobSpecSchema, { name: "serve-test", command, idempotencyKey });
}

async function collectLogs(
  client: ReturnType<typeof createClient<typeof hostv1.HostService>>,
  handle: unknown,
  cursor = "",
) {
  const lines: { stream: LogStream; text: string; cursor: string }[] = [];
  for await (const batch of client.streamJobLogs({ handle: handle as never, follow: true, cursor })) {
    for (const line of batch.lines) lines.push({ stream: line.stream, text: line.text, cursor: line.cursor });
  }
  return lines;
}

describe("flotilla serve", () => {
  it("runs a job for a client over each protocol: its handle, every log line in order, its real exit code", async () => {
    const server = await serve(["--listen", "127.0.0.1:0"], { FLOTILLA_SERVE_TOKEN: TOKEN });
    for (const protocol of ["grpc", "grpc-web", "connect"] as const) {
      const client = createClient(hostv1.HostService, transport(server.address, protocol, TOKEN));
      const { handle, deduplicated } = await client.runJob({
        spec: spec(["sh", "-c", `echo one-${protocol}; echo two >&2; echo three; exit 3`]),
      });
      expect(deduplicated).toBe(false);
      expect(handle?.provider).toBe("local");
      const lines = await collectLogs(client, handle);
      // Each stream in its order (stdout and stderr are two pipes: how they interleave is the job's business).
      const textsOf = (stream: LogStream) => lines.filter((l) => l.stream === stream).map((l) => l.text);
      expect(textsOf(LogStream.STDOUT)).toEqual([`one-${protocol}`, "three"]);
      expect(textsOf(LogStream.STDERR)).toEqual(["two"]);
      expect(lines).toHaveLength(3);
      // Resuming after the first line's cursor gives the rest, nothing twice.
      const rest = await collectLogs(client, handle, lines[0]?.cursor);
      expect(rest.map((l) => l.text)).toEqual(lines.slice(1).map((l) => l.text));
      const { status } = await client.getJobStatus({ handle });
      expect(status?.state).toBe(JobState.FAILED);
      expect(status?.exitCode).toBe(3);
      expect(status?.handle?.jobId).toBe(handle?.jobId);
    }
    const listed = await createClient(hostv1.HostService, transport(server.address, "grpc", TOKEN)).listProviders({});
    const local = listed.providers.find((p) => p.name === "local");
    expect(local?.state).toBe(hostv1.ProviderState.READY);
    expect(local?.registry?.services).toContain("flotilla.plugin.v1.IaCProviderRunnerService");
  }, 120_000);

  it("turns away a client without the token or with a wrong one, but answers health checks", async () => {
    const server = await serve(["--listen", "127.0.0.1:0"], { FLOTILLA_SERVE_TOKEN: TOKEN });
    for (const token of [undefined, "not-the-token"]) {
      const client = createClient(hostv1.HostService, transport(server.address, "grpc", token));
      const refused = await client.listProviders({}).catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ConnectError);
      expect((refused as ConnectError).code).toBe(Code.Unauthenticated);
      // The token itself never appears in what the server says.
      expect((refused as ConnectError).message).not.toContain(TOKEN);
    }
    const probe = createClient(health.Health, transport(server.address, "grpc"));
    const { status } = await probe.check({ service: "" });
    expect(status).toBe(health.HealthCheckResponse_ServingStatus.SERVING);
    expect(server.stderr()).not.toContain(TOKEN);
  }, 60_000);

  it("describes itself through server reflection, so `buf curl` calls it without the .proto files", async () => {
    const server = await serve(["--listen", "127.0.0.1:0"], { FLOTILLA_SERVE_TOKEN: TOKEN });
    const bufCurl = (args: string[]) =>
      spawnSync(buf, ["curl", "--protocol", "grpc", "--http2-prior-knowledge", ...args], {
        cwd: dir,
        encoding: "utf8",
      });
    const methods = bufCurl(["--list-methods", `http://${server.address}`]);
    expect(methods.status, methods.stderr).toBe(0);
    expect(methods.stdout.trim().split("\n")).toEqual(
      expect.arrayContaining([
        "flotilla.host.v1.HostService/RunJob",
        "flotilla.host.v1.HostService/StreamJobLogs",
        "grpc.health.v1.Health/Check",
      ]),
    );
    const run = bufCurl([
      "-H",
      `authorization: Bearer ${TOKEN}`,
      "-d",
      JSON.stringify({ spec: { command: ["sh", "-c", "exit 9"] } }),
      `http://${server.address}/flotilla.host.v1.HostService/RunJob`,
    ]);
    expect(run.status, run.stderr).toBe(0);
    const { handle } = JSON.parse(run.stdout) as { handle: { provider: string; jobId: string } };
    expect(handle.provider).toBe("local");
    // Reflection describes the API; calling it still takes the token.
    const anonymous = bufCurl([
      "-d",
      JSON.stringify({ handle }),
      `http://${server.address}/flotilla.host.v1.HostService/GetJobStatus`,
    ]);
    expect(anonymous.status).not.toBe(0);
    expect(anonymous.stderr).toMatch(/unauthenticated/);
  }, 60_000);

  it("answers a repeated RunJob with the first job's handle, and the CLI sees the same job in the journal", async () => {
    const server = await serve(["--listen", "127.0.0.1:0"], { FLOTILLA_SERVE_TOKEN: TOKEN });
    const client = createClient(hostv1.HostService, transport(server.address, "connect", TOKEN));
    const first = await client.runJob({ spec: spec(["sh", "-c", "echo once"], "serve-idem-1") });
    const again = await client.runJob({ spec: spec(["sh", "-c", "echo once"], "serve-idem-1") });
    expect(again.handle?.jobId).toBe(first.handle?.jobId);
    expect(again.deduplicated).toBe(true);
    expect((await collectLogs(client, first.handle)).map((l) => l.text)).toEqual(["once"]);
    const listed = spawnSync(process.execPath, [cliMain, "jobs", "list", "--json"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, XDG_STATE_HOME: join(dir, "state") },
      encoding: "utf8",
    });
    expect(listed.status).toBe(0);
    const handles = (JSON.parse(listed.stdout) as { handle: string }[]).map((j) => j.handle);
    expect(handles.filter((h) => h === `local:${first.handle?.jobId}`)).toHaveLength(1);
  }, 60_000);

  it("cancels a running job: it stops and reports CANCELLED", async () => {
    const server = await serve(["--listen", "127.0.0.1:0"], { FLOTILLA_SERVE_TOKEN: TOKEN });
    const client = createClient(hostv1.HostService, transport(server.address, "grpc", TOKEN));
    const { handle } = await client.runJob({ spec: spec(["sleep", "300"]) });
    const { status } = await client.cancelJob({ handle, reason: "test over" });
    expect(status?.state).toBe(JobState.CANCELLED);
    expect((await client.getJobStatus({ handle })).status?.state).toBe(JobState.CANCELLED);
  }, 60_000);

  it("rejects bad requests with INVALID_ARGUMENT or NOT_FOUND, saying what is wrong", async () => {
    const server = await serve(["--listen", "127.0.0.1:0"], { FLOTILLA_SERVE_TOKEN: TOKEN });
    const client = createClient(hostv1.HostService, transport(server.address, "connect", TOKEN));
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: ConnectError) => [e.code, e.rawMessage],
      );
    expect(await codeOf(client.runJob({ provider: "nowhere", spec: spec(["true"]) }))).toEqual([
      Code.InvalidArgument,
      expect.stringMatching(/provider "nowhere" is not configured on this host; configured: local/),
    ]);
    expect(await codeOf(client.runJob({ spec: spec([]) }))).toEqual([
      Code.InvalidArgument,
      expect.stringMatching(/spec.command is empty/),
    ]);
    expect(await codeOf(client.getJobStatus({}))).toEqual([
      Code.InvalidArgument,
      expect.stringMatching(/handle must name the provider and the job id/),
    ]);
    const firstBatch = (request: Parameters<typeof client.streamJobLogs>[0]) =>
      (async () => {
        for await (const batch of client.streamJobLogs(request)) return batch;
      })();
    expect(await codeOf(firstBatch({}))).toEqual([
      Code.InvalidArgument,
      expect.stringMatching(/handle must name the provider and the job id/),
    ]);
    expect(await codeOf(firstBatch({ handle: { provider: "local", jobId: "x" }, cursor: "not-a-cursor" }))).toEqual([
      Code.InvalidArgument,
      expect.stringMatching(/cursor "not-a-cursor" is not one this host gave out/),
    ]);
    expect(await codeOf(client.getJobStatus({ handle: { provider: "local", jobId: "no-such-job" } }))).toEqual([
      Code.NotFound,
      expect.stringMatching(/job local:no-such-job is not in the job journal/),
    ]);
  }, 60_000);

  it("authenticates clients by certificate over TLS (mTLS): one its CA signed gets in, one without a certificate does not", async () => {
    const [serverCert, clientCert] = await Promise.all([generateCertificate(), generateCertificate()]);
    const files = Object.fromEntries(
      Object.entries({
        cert: serverCert.certPem,
        key: serverCert.keyPem,
        // The client's certificate is self-signed and marked CA: it can be the trust root the server checks with.
        clientCa: clientCert.certPem,
      }).map(([name, pem]) => {
        const path = join(dir, `mtls-${name}.pem`);
        writeFileSync(path, pem, { mode: 0o600 });
        return [name, path];
      }),
    );
    const server = await serve([
      "--listen",
      "127.0.0.1:0",
      "--tls-cert",
      files.cert as string,
      "--tls-key",
      files.key as string,
      "--tls-client-ca",
      files.clientCa as string,
    ]);
    const port = server.address.split(":").at(-1);
    const over = (withCert: boolean) =>
      createClient(
        hostv1.HostService,
        createGrpcTransport({
          baseUrl: `https://localhost:${port}`,
          nodeOptions: {
            ca: serverCert.certPem,
            ...(withCert ? { cert: clientCert.certPem, key: clientCert.keyPem } : {}),
          },
        }),
      );
    const listed = await over(true).listProviders({});
    expect(listed.providers.map((p) => p.name)).toContain("local");
    const refused = await over(false)
      .listProviders({})
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ConnectError);
    expect(server.stderr()).not.toContain("PRIVATE KEY");
  }, 60_000);

  it("over TLS also takes HTTP/1.1, as browsers' gRPC-Web and Connect calls come", async () => {
    const serverCert = await generateCertificate();
    const certFile = join(dir, "h1-cert.pem");
    const keyFile = join(dir, "h1-key.pem");
    writeFileSync(certFile, serverCert.certPem);
    writeFileSync(keyFile, serverCert.keyPem, { mode: 0o600 });
    const server = await serve(["--listen", "127.0.0.1:0", "--tls-cert", certFile, "--tls-key", keyFile], {
      FLOTILLA_SERVE_TOKEN: TOKEN,
    });
    const port = server.address.split(":").at(-1);
    const authorize =
      (next: Parameters<NonNullable<Parameters<typeof createGrpcWebTransport>[0]["interceptors"]>[number]>[0]) =>
      async (request: Parameters<typeof next>[0]) => {
        request.header.set("authorization", `Bearer ${TOKEN}`);
        return next(request);
      };
    for (const makeTransport of [createGrpcWebTransport, createConnectTransport]) {
      const client = createClient(
        hostv1.HostService,
        makeTransport({
          baseUrl: `https://localhost:${port}`,
          httpVersion: "1.1",
          nodeOptions: { ca: serverCert.certPem },
          interceptors: [authorize],
        }),
      );
      const listed = await client.listProviders({});
      expect(listed.providers.map((p) => p.name)).toContain("local");
    }
  }, 60_000);

  it("serves a Unix socket only its owner can open, without credentials only when asked to", async () => {
    const socket = join(dir, "host.sock");
    const server = await serve(["--listen", `unix:${socket}`, "--allow-unauthenticated-socket"]);
    expect(server.address).toBe(`unix:${socket}`);
    expect(statSync(socket).mode & 0o777).toBe(0o600);
    server.child.kill("SIGTERM");
    expect(await server.exited).toBe(0);
    expect(() => statSync(socket)).toThrow(/ENOENT/);
  }, 60_000);

  it("prunes the journal to the newest --keep-finished finished jobs when it starts", async () => {
    const pruning = join(dir, "pruning");
    mkdirSync(pruning, { recursive: true });
    writeFileSync(join(pruning, "flotilla.yaml"), "journal: journal.db\n");
    const env = { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, XDG_STATE_HOME: join(dir, "state") };
    for (const word of ["first", "second", "third"]) {
      const run = spawnSync(process.execPath, [cliMain, "run", "--name", word, "--", "echo", word], {
        cwd: pruning,
        env,
        encoding: "utf8",
      });
      expect(run.status, run.stderr).toBe(0);
    }
    const server = await serve(
      ["--listen", "127.0.0.1:0", "--config", join(pruning, "flotilla.yaml"), "--keep-finished", "1"],
      {
        FLOTILLA_SERVE_TOKEN: TOKEN,
      },
    );
    await expect
      .poll(() => server.stderr())
      .toMatch(/pruned 2 finished job\(s\) from the journal \(keeping the newest 1\)/);
    const listed = spawnSync(process.execPath, [cliMain, "jobs", "list", "--json"], {
      cwd: pruning,
      env,
      encoding: "utf8",
    });
    expect((JSON.parse(listed.stdout) as { name: string }[]).map((job) => job.name)).toEqual(["third"]);
    const bad = spawnSync(process.execPath, [cliMain, "serve", "--keep-finished", "all"], {
      cwd: pruning,
      env: { ...env, FLOTILLA_SERVE_TOKEN: TOKEN },
      encoding: "utf8",
    });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/--keep-finished "all" is not a number of jobs/);
  }, 60_000);

  it("does not start without a way to authenticate clients, nor unauthenticated on a TCP port", async () => {
    const noAuth = spawnSync(process.execPath, [cliMain, "serve", "--listen", "127.0.0.1:0"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir },
      encoding: "utf8",
    });
    expect(noAuth.status).toBe(2);
    expect(noAuth.stderr).toMatch(/no way to authenticate clients: set FLOTILLA_SERVE_TOKEN/);
    const tcpOpen = spawnSync(
      process.execPath,
      [cliMain, "serve", "--listen", "127.0.0.1:0", "--allow-unauthenticated-socket"],
      { cwd: dir, env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir }, encoding: "utf8" },
    );
    expect(tcpOpen.status).toBe(2);
    expect(tcpOpen.stderr).toMatch(/--allow-unauthenticated-socket applies to a Unix socket only/);
    const badListen = spawnSync(process.execPath, [cliMain, "serve", "--listen", "localhost"], {
      cwd: dir,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: dir, FLOTILLA_SERVE_TOKEN: TOKEN },
      encoding: "utf8",
    });
    expect(badListen.status).toBe(2);
    expect(badListen.stderr).toMatch(/--listen "localhost" is not an address to listen on; use HOST:PORT/);
  }, 60_000);

  it("loses no job across a restart: the next server follows a job the stopped one started", async () => {
    const first = await serve(["--listen", "127.0.0.1:0"], { FLOTILLA_SERVE_TOKEN: TOKEN });
    const before = createClient(hostv1.HostService, transport(first.address, "grpc", TOKEN));
    const marker = join(dir, "restart-go");
    const { handle } = await before.runJob({
      spec: spec(["sh", "-c", `echo before; while [ ! -e ${marker} ]; do sleep 0.1; done; echo after; exit 4`]),
    });
    first.child.kill("SIGTERM");
    expect(await first.exited).toBe(0);
    const second = await serve(["--listen", "127.0.0.1:0"], { FLOTILLA_SERVE_TOKEN: TOKEN });
    writeFileSync(marker, "");
    const after = createClient(hostv1.HostService, transport(second.address, "grpc", TOKEN));
    expect((await collectLogs(after, handle)).map((l) => l.text)).toEqual(["before", "after"]);
    const { status } = await after.getJobStatus({ handle });
    expect(status?.state).toBe(JobState.FAILED);
    expect(status?.exitCode).toBe(4);
  }, 120_000);

  it("shares a PostgreSQL journal between servers: one takes over a job whose server was killed", async () => {
    const postgres = await startPostgres();
    try {
      const schema = await postgres.newSchema();
      const { host, port, user } = postgres.config() as { host: string; port: number; user: string };
      const url = `postgresql://${user}@localhost/postgres?host=${encodeURIComponent(host)}&port=${port}&options=${encodeURIComponent(`-c search_path=${schema}`)}`;
      const shared = join(dir, "shared");
      mkdirSync(shared, { recursive: true });
      writeFileSync(join(shared, "flotilla.yaml"), `journal: "${url}"\n`);
      const config = ["--config", join(shared, "flotilla.yaml")];
      const env = { FLOTILLA_SERVE_TOKEN: TOKEN };
      const [a, b] = [
        await serve(["--listen", "127.0.0.1:0", ...config], env),
        await serve(["--listen", "127.0.0.1:0", ...config], env),
      ];
      const marker = join(shared, "go-on");
      const viaA = createClient(hostv1.HostService, transport(a.address, "grpc", TOKEN));
      const { handle } = await viaA.runJob({
        spec: spec(["sh", "-c", `echo first; while [ ! -e ${marker} ]; do sleep 0.1; done; echo second; exit 5`]),
      });
      a.child.kill("SIGKILL");
      await a.exited;
      writeFileSync(marker, "");
      // Unasked, server B takes the job over within a few seconds and records its end in the shared journal.
      const journal = await PostgresJournal.open(url);
      try {
        await expect
          .poll(async () => (await journal.findByHandle({ provider: "local", jobId: handle?.jobId ?? "" }))?.finished, {
            timeout: 60_000,
            interval: 500,
          })
          .toBe(true);
      } finally {
        await journal.close();
      }
      // Server B finds the job in the shared journal, sees its follower gone, and carries it to its end.
      const viaB = createClient(hostv1.HostService, transport(b.address, "connect", TOKEN));
      expect((await collectLogs(viaB, handle)).map((l) => l.text)).toEqual(["first", "second"]);
      const { status } = await viaB.getJobStatus({ handle });
      expect(status?.state).toBe(JobState.FAILED);
      expect(status?.exitCode).toBe(5);
      expect(b.stderr()).toContain(`journal postgresql://${user}@localhost/postgres`);
    } finally {
      await postgres.stop();
    }
  }, 600_000);
});
