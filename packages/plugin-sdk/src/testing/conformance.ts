/**
 * The conformance suite: what any plugin must do for a Flotilla host, checked
 * against its executable from outside, whatever language it is written in.
 * `flotilla plugin test -- COMMAND...` prints its report; a plugin's own tests
 * can call {@link runConformance} inside vitest. Each check says why it failed,
 * or why it was skipped (a service the plugin does not advertise, no job to
 * run), so a report is something to act on, not a score.
 */
import { randomUUID } from "node:crypto";
import type { DescService, MessageInitShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import {
  Code,
  ContractRegistryService,
  type FlotillaError,
  IaCProviderService,
  isFlotillaError,
  type JobHandle,
  type JobSpecSchema,
  JobState,
  type JobStatus,
  type LogLine,
  optionalServiceByKey,
} from "@flotilla/protocol";
import {
  type CertificatePair,
  generateCertificate,
  goplugin,
  HandshakeEnv,
  HEALTH_SERVICE_NAME,
  health,
} from "@flotilla/protocol/wire";
import { type PluginClient, pluginClient } from "./plugin-client.js";
import { PluginSpawnError, type SpawnedPlugin, spawnPlugin } from "./spawn-plugin.js";

/** How one check ended. */
export type CheckStatus = "passed" | "failed" | "skipped";

/** One check of the suite. */
export interface ConformanceCheck {
  /** What was checked, e.g. "the log resumes from a cursor with no gap or repeat". */
  readonly name: string;
  readonly status: CheckStatus;
  /** What was seen (passed), what is wrong and what to fix (failed), or why it did not apply (skipped). */
  readonly detail: string;
}

/** The suite's result. */
export interface ConformanceReport {
  /** The plugin command that was tested. */
  readonly command: readonly string[];
  /** True when no check failed. */
  readonly passed: boolean;
  readonly checks: readonly ConformanceCheck[];
}

/** Options of {@link runConformance}. */
export interface ConformanceOptions {
  /** The provider configuration sent with Configure, as JSON text; default: none (empty). */
  readonly configJson?: string;
  /**
   * A tiny job that succeeds quickly and prints at least one line, as the plugin runs it (e.g. for the
   * local provider `{ command: ["sh", "-c", "echo one; echo two"] }`). Without it the job checks are
   * skipped: only the plugin knows what a runnable job looks like.
   */
  readonly job?: MessageInitShape<typeof JobSpecSchema>;
  /** Offer AutoMTLS, as a host does by default; false for a plugin that does not do TLS. Default true. */
  readonly autoMtls?: boolean;
  /** Extra environment for the plugin (a host grants a plugin nothing else). */
  readonly env?: Record<string, string>;
  /** How long one check may take; default 30 s. */
  readonly timeoutMs?: number;
}

/** Thrown by a check that does not apply, with the reason. */
class NotApplicable extends Error {}

/** Runs every check against `command args` and returns the report; never throws for a plugin's fault. */
export async function runConformance(
  command: string,
  args: readonly string[],
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const checks: ConformanceCheck[] = [];
  const timeoutMs = options.timeoutMs ?? 30_000;
  const record = async (name: string, run: () => Promise<string>): Promise<boolean> => {
    try {
      checks.push({ name, status: "passed", detail: await withTimeout(run(), timeoutMs, name) });
      return true;
    } catch (error) {
      const skipped = error instanceof NotApplicable;
      checks.push({ name, status: skipped ? "skipped" : "failed", detail: describeError(error) });
      return false;
    }
  };

  const tls = options.autoMtls === false ? undefined : await generateCertificate();
  let plugin: SpawnedPlugin | undefined;
  const clients: PluginClient<GenService<GenServiceMethods>>[] = [];
  const client = <S extends GenService<GenServiceMethods>>(service: S): PluginClient<S> => {
    if (!plugin) throw new Error("the plugin is not running");
    const made = pluginClient(plugin.handshake, service, tls ? { tls } : {});
    clients.push(made as unknown as PluginClient<GenService<GenServiceMethods>>);
    return made;
  };

  try {
    const start = () =>
      spawnPlugin(command, [...args], {
        env: { ...options.env, ...(tls ? { [HandshakeEnv.clientCert]: tls.certPem } : {}) },
        handshakeTimeoutMs: timeoutMs,
      });
    const started = await record("prints a go-plugin handshake line", async () => {
      plugin = await start();
      // spawnPlugin parses the line as a host does: field count, core protocol version, network, address.
      const { handshake } = plugin;
      if (handshake.protocol !== "grpc") throw new Error(`protocol ${handshake.protocol}; Flotilla speaks grpc only`);
      if (tls && !handshake.serverCertDer) {
        throw new Error(
          "the host offered AutoMTLS (PLUGIN_CLIENT_CERT) but the handshake has no server certificate; serve TLS, or run the suite with AutoMTLS off if the plugin cannot",
        );
      }
      return `grpc over ${handshake.network} at ${handshake.address}, core protocol ${handshake.coreProtocolVersion}, app protocol ${handshake.appProtocolVersion}${handshake.serverCertDer ? ", AutoMTLS" : ""}`;
    });
    if (!started) return finish();

    await record("reports SERVING on the gRPC health service", async () => {
      const { status } = await client(health.Health).unary("check", { service: HEALTH_SERVICE_NAME });
      if (status !== health.HealthCheckResponse_ServingStatus.SERVING) {
        throw new Error(
          `grpc.health.v1.Health/Check("${HEALTH_SERVICE_NAME}") answered ${health.HealthCheckResponse_ServingStatus[status]}; a host waits for SERVING`,
        );
      }
      return `"${HEALTH_SERVICE_NAME}" is SERVING`;
    });

    let advertised: readonly string[] = [];
    await record("lists its optional services in its registry exactly as it serves them", async () => {
      const { registry } = await client(ContractRegistryService).unary("getContractRegistry", {});
      if (!registry) throw new Error("GetContractRegistry answered without a registry");
      if (!registry.pluginName) throw new Error("the registry has no plugin_name");
      advertised = registry.services;
      const wrong: string[] = [];
      for (const service of Object.values(optionalServiceByKey)) {
        const listed = advertised.includes(service.typeName);
        const served = await isServed(client(service as GenService<GenServiceMethods>), service);
        if (listed && !served) wrong.push(`${service.typeName} is listed but answers UNIMPLEMENTED`);
        if (!listed && served) wrong.push(`${service.typeName} is served but not listed`);
      }
      if (wrong.length > 0) throw new Error(`${wrong.join("; ")}; the registry is a promise a host relies on`);
      return `${registry.pluginName} ${registry.pluginVersion}: ${advertised.length ? advertised.map(shortName).join(", ") : "no optional services"}`;
    });

    await record("accepts its configuration", async () => {
      await client(IaCProviderService).unary("configure", {
        configJson: new TextEncoder().encode(options.configJson ?? ""),
      });
      return options.configJson ? "Configure accepted the given config" : "Configure accepted an empty config";
    });

    const runs = advertised.includes(optionalServiceByKey.runner.typeName);
    await runnerChecks(record, runs ? client(optionalServiceByKey.runner) : undefined, options.job);

    await record("lists regions sorted, without duplicates", async () => {
      if (!advertised.includes(optionalServiceByKey.regionLister.typeName)) {
        throw new NotApplicable("the plugin does not advertise RegionLister");
      }
      const { regions } = await client(optionalServiceByKey.regionLister).unary("listRegions", {});
      const ids = regions.map((region) => region.id);
      const sorted = [...new Set(ids)].sort();
      if (ids.length !== sorted.length) throw new Error(`region ids repeat: ${ids.join(", ")}`);
      if (ids.some((id, i) => id !== sorted[i])) throw new Error(`regions are not sorted by id: ${ids.join(", ")}`);
      return `${ids.length} region(s)`;
    });

    await shutdownChecks(record, plugin as unknown as SpawnedPlugin, clients, start, tls);
    return finish();
  } finally {
    for (const made of clients) made.close();
    (plugin as SpawnedPlugin | undefined)?.kill();
  }

  function finish(): ConformanceReport {
    return { command: [command, ...args], passed: checks.every((c) => c.status !== "failed"), checks };
  }
}

type RecordCheck = (name: string, run: () => Promise<string>) => Promise<boolean>;
type RunnerClient = PluginClient<typeof optionalServiceByKey.runner>;

/** The job checks: run, deduplicate, status, logs, resume, cancel, unknown handles, batches. */
async function runnerChecks(
  record: RecordCheck,
  runner: RunnerClient | undefined,
  job: ConformanceOptions["job"],
): Promise<void> {
  const names = [
    "runs a job and answers with its handle",
    "runs a job once for a repeated idempotency key",
    "reports the job's end with its real exit code",
    "ends a followed log once the job has ended and its log is drained",
    "resumes the log from a cursor with no gap or repeat",
    "treats cancelling a finished job as no error",
    "answers an unknown job handle with NotFound",
    "answers a batch status call in request order, with per-job errors",
  ];
  const skipAll = async (reason: string) => {
    for (const name of names) {
      await record(name, async () => {
        throw new NotApplicable(reason);
      });
    }
  };
  if (!runner) return skipAll("the plugin does not advertise IaCProviderRunner");
  if (!job) return skipAll("no job given: tell the suite how to run a tiny job on this plugin (--job)");

  const idempotencyKey = `conformance-${randomUUID()}`;
  let handle: JobHandle | undefined;
  const needHandle = (): JobHandle => {
    if (!handle) throw new NotApplicable("no job was started");
    return handle;
  };
  await record(names[0] as string, async () => {
    const response = await runner.unary("runJob", { spec: { ...job, idempotencyKey } });
    if (!response.handle?.jobId) throw new Error("RunJob answered without a handle and job id");
    handle = response.handle;
    return `job ${handle.jobId}`;
  });
  await record(names[1] as string, async () => {
    const first = needHandle();
    const again = await runner.unary("runJob", { spec: { ...job, idempotencyKey } });
    if (again.handle?.jobId !== first.jobId) {
      throw new Error(
        `a second RunJob with idempotency key ${idempotencyKey} started job ${again.handle?.jobId}, not ${first.jobId}: a host retrying a lost response would run the job twice`,
      );
    }
    if (!again.deduplicated) throw new Error("the repeated RunJob returned the job but did not set deduplicated");
    return "the repeat returned the first job, deduplicated";
  });
  let final: JobStatus | undefined;
  await record(names[2] as string, async () => {
    const started = needHandle();
    for (;;) {
      const { status } = await runner.unary("jobStatus", { handle: started });
      if (!status) throw new Error("JobStatus answered without a status");
      if (isTerminal(status.state)) {
        final = status;
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    if (final.state !== JobState.SUCCEEDED) {
      throw new Error(
        `the job ended ${JobState[final.state]}${final.reason ? ` (${final.reason})` : ""}; the job given must succeed`,
      );
    }
    if (final.exitCode !== 0) {
      throw new Error(
        `a SUCCEEDED job reports exit code ${final.exitCode === undefined ? "absent" : final.exitCode}; report the real exit code, 0`,
      );
    }
    return "SUCCEEDED with exit code 0";
  });
  let lines: LogLine[] = [];
  await record(names[3] as string, async () => {
    lines = await readLog(runner, needHandle(), "", true);
    if (lines.length === 0) throw new Error("the followed log ended with no line; the job given must print one");
    return `${lines.length} line(s)`;
  });
  await record(names[4] as string, async () => {
    if (lines.length === 0) throw new NotApplicable("no log lines to resume from");
    if (lines.some((line) => line.cursor === "")) {
      throw new NotApplicable("the lines carry no cursor, so a host cannot resume this plugin's logs");
    }
    for (const from of new Set([0, Math.floor(lines.length / 2), lines.length - 1])) {
      const rest = await readLog(runner, needHandle(), (lines[from] as LogLine).cursor, false);
      const expected = lines.slice(from + 1).map(lineKey);
      const got = rest.map(lineKey);
      if (JSON.stringify(got) !== JSON.stringify(expected)) {
        throw new Error(
          `from the cursor of line ${from + 1} the log gave ${got.length} line(s) where ${expected.length} follow it: a resumed follower would ${got.length > expected.length ? "repeat" : "lose"} lines`,
        );
      }
    }
    return "resumed from the first, a middle and the last line";
  });
  await record(names[5] as string, async () => {
    const { status } = await runner.unary("cancelJob", { handle: needHandle(), reason: "conformance check" });
    if (status && status.state !== JobState.SUCCEEDED) {
      throw new Error(`cancelling the finished job changed its state to ${JobState[status.state]}`);
    }
    return "CancelJob answered, the job stayed SUCCEEDED";
  });
  const unknown: JobHandle = { ...needHandleOr(handle), jobId: unknownJobIdLike(handle?.jobId ?? "") };
  await record(names[6] as string, async () => {
    const error = await runner.unary("jobStatus", { handle: unknown }).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isFlotillaError(error, Code.NotFound)) {
      throw new Error(
        `JobStatus of an unknown job answered ${error === undefined ? "a status" : codeOf(error)}; answer NOT_FOUND, so a host knows the job is gone`,
      );
    }
    return "NOT_FOUND";
  });
  await record(names[7] as string, async () => {
    const known = needHandle();
    const { results } = await runner.unary("batchJobStatus", { handles: [known, unknown] });
    const order = results.map((result) => result.handle?.jobId);
    if (JSON.stringify(order) !== JSON.stringify([known.jobId, unknown.jobId])) {
      throw new Error(`results came back for ${order.join(", ")}; answer one result per handle, in request order`);
    }
    const missing = results[1]?.result;
    if (missing?.case !== "error" || missing.value.code !== "NOT_FOUND") {
      throw new Error(`the unknown job's result is ${missing?.case ?? "empty"}; report it as an error NOT_FOUND`);
    }
    if (results[0]?.result.case !== "status") throw new Error("the known job's result has no status");
    return "results in request order, NOT_FOUND for the unknown job";
  });
}

/**
 * The last checks: the plugin leaves when its host goes away (stdin closed), and a second instance, started
 * for the purpose, leaves when its host asks it to, as go-plugin hosts do before they kill a plugin.
 */
async function shutdownChecks(
  record: RecordCheck,
  plugin: SpawnedPlugin,
  clients: PluginClient<GenService<GenServiceMethods>>[],
  startAnother: () => Promise<SpawnedPlugin>,
  tls: CertificatePair | undefined,
): Promise<void> {
  for (const made of clients.splice(0)) made.close();
  await record("exits when its host goes away (stdin closed)", async () => {
    plugin.child.stdin?.end();
    const ended = await Promise.race([plugin.exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!ended) {
      throw new NotApplicable(
        "still running 10 s after its stdin closed; its host must kill it (go-plugin plugins behave so; SDK plugins exit)",
      );
    }
    return "exited";
  });
  await record("shuts down when its host asks (GRPCController.Shutdown)", async () => {
    const another = await startAnother();
    const controller = pluginClient(another.handshake, goplugin.GRPCController, tls ? { tls } : {});
    try {
      // The plugin may close the connection before it answers; its exit is what counts.
      await controller.unary("shutdown", {}, { deadline: 5_000 }).catch(() => undefined);
      const ended = await Promise.race([another.exited, sleep(10_000).then(() => undefined)]);
      if (!ended) throw new Error("still running 10 s after GRPCController.Shutdown; a host then has to kill it");
      return ended.code === null ? `exited (signal ${ended.signal})` : `exited with code ${ended.code}`;
    } finally {
      controller.close();
      another.kill();
    }
  });
}

/**
 * A method of each optional service that only reads, so probing it changes nothing on the plugin's side:
 * never RunJob or CreateResource, which a plugin that ignores an empty request would carry out.
 */
const probeMethod: Record<string, string> = {
  [optionalServiceByKey.runner.typeName]: "jobStatus",
  [optionalServiceByKey.resourceDriver.typeName]: "sensitiveKeys",
  [optionalServiceByKey.regionLister.typeName]: "listRegions",
  [optionalServiceByKey.driftDetector.typeName]: "detectDrift",
};

/** Whether `service` answers, telling UNIMPLEMENTED (not served) from any other outcome. */
async function isServed(client: PluginClient<GenService<GenServiceMethods>>, service: DescService): Promise<boolean> {
  const method = probeMethod[service.typeName] as string;
  try {
    await client.unary(method as never, {} as never, { deadline: 5_000 });
    return true;
  } catch (error) {
    return !isFlotillaError(error, Code.Unimplemented);
  }
}

async function readLog(runner: RunnerClient, handle: JobHandle, cursor: string, follow: boolean): Promise<LogLine[]> {
  const lines: LogLine[] = [];
  for await (const page of runner.serverStream("jobLogs", { handle, cursor, follow })) lines.push(...page.lines);
  return lines;
}

function lineKey(line: LogLine): string {
  return `${line.stream}:${line.text}:${line.cursor}`;
}

function isTerminal(state: JobState): boolean {
  return [JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.UNKNOWN].includes(state);
}

/**
 * A job id in the plugin's own format that names no job: the known id with its last run of letters and
 * digits replaced, so a plugin that checks the shape of ids (an ECS task ARN) still looks the job up.
 */
export function unknownJobIdLike(jobId: string): string {
  const match = /[0-9A-Za-z]{4,}(?=[^0-9A-Za-z]*$)/.exec(jobId);
  if (!match) return `conformance-no-such-job-${randomUUID()}`;
  const run = match[0];
  const replaced = run.replace(/[0-9A-Za-z]/g, (c) => (c === "0" ? "1" : "0"));
  return jobId.slice(0, match.index) + replaced + jobId.slice(match.index + run.length);
}

function needHandleOr(handle: JobHandle | undefined): JobHandle {
  return handle ?? ({ jobId: "" } as JobHandle);
}

function codeOf(error: unknown): string {
  return isFlotillaError(error) ? `${Code[error.code]} (${(error as FlotillaError).message})` : String(error);
}

function shortName(typeName: string): string {
  return typeName.replace(/^flotilla\.plugin\.v1\./, "").replace(/Service$/, "");
}

/** An error as one line; a plugin that failed to start keeps the last lines of its stderr, which say why. */
function describeError(error: unknown): string {
  if (error instanceof PluginSpawnError) {
    const tail = error.stderr.trim().split("\n").slice(-5).join(" | ");
    const summary = error.message.split("\n--- plugin stderr ---")[0] ?? error.message;
    return tail ? `${summary}; its stderr ended: ${tail}` : summary;
  }
  return error instanceof Error ? error.message : String(error);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}

async function withTimeout<T>(work: Promise<T>, ms: number, name: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const limit = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms (${name})`)), ms);
  });
  try {
    return await Promise.race([work, limit]);
  } finally {
    clearTimeout(timer);
  }
}
