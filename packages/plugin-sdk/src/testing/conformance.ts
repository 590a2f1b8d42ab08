/**
 * The conformance suite: what any plugin must do for a Flotilla host, checked
 * against its executable from outside, whatever language it is written in.
 * `flotilla plugin test -- COMMAND...` prints its report; a plugin's own tests
 * can call {@link runConformance} inside vitest. Each check says why it failed,
 * or why it was skipped (a service the plugin does not advertise, no job to
 * run), so a report is something to act on, not a score. The checks live in
 * groups: conformance-jobs.ts (the runner) and conformance-exit.ts (leaving).
 */
import type { DescService, MessageInitShape } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import {
  Code,
  type ContractRegistry,
  ContractRegistryService,
  IaCProviderService,
  isFlotillaError,
  type JobSpecSchema,
  optionalServiceByKey,
} from "@flotilla/protocol";
import { generateCertificate, HandshakeEnv, HEALTH_SERVICE_NAME, health } from "@flotilla/protocol/wire";
import { codeOf, describeError, failureOf, NotApplicable, type RecordCheck } from "./conformance-check.js";
import { exitChecks } from "./conformance-exit.js";
import { jobChecks, type SuiteJob } from "./conformance-jobs.js";
import { type PluginClient, pluginClient } from "./plugin-client.js";
import { type SpawnedPlugin, spawnPlugin } from "./spawn-plugin.js";

export { unknownJobIdLike } from "./conformance-jobs.js";

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
   * local provider `{ command: ["sh", "-c", "echo one; echo two"] }`). Default: the registry's
   * `conformance_jobs.quick`; with neither, the job checks are skipped, saying why.
   */
  readonly job?: MessageInitShape<typeof JobSpecSchema>;
  /**
   * A job that prints a line and runs until cancelled (e.g. `sh -c 'echo started; sleep 600'`), for the
   * deadline and cancel checks. Default: the registry's `conformance_jobs.long_running`.
   */
  readonly longJob?: MessageInitShape<typeof JobSpecSchema>;
  /** Offer AutoMTLS, as a host does by default; false for a plugin that does not do TLS. Default true. */
  readonly autoMtls?: boolean;
  /** Extra environment for the plugin (a host grants a plugin nothing else). */
  readonly env?: Record<string, string>;
  /** How long one check may take; default 30 s. */
  readonly timeoutMs?: number;
  /**
   * How long the plugin may take to end a cancelled job, and to exit once its stdin closes, its host asks
   * (Shutdown) or its host dies; default 10 s.
   */
  readonly settleMs?: number;
}

/** Runs every check against `command args` and returns the report; never throws for a plugin's fault. */
export async function runConformance(
  command: string,
  args: readonly string[],
  options: ConformanceOptions = {},
): Promise<ConformanceReport> {
  const checks: ConformanceCheck[] = [];
  const timeoutMs = options.timeoutMs ?? 30_000;
  const settleMs = options.settleMs ?? 10_000;
  const record: RecordCheck = async (name, run) => {
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
  const env = { ...options.env, ...(tls ? { [HandshakeEnv.clientCert]: tls.certPem } : {}) };
  let plugin: SpawnedPlugin | undefined;
  const clients: PluginClient<GenService<GenServiceMethods>>[] = [];
  const client = <S extends GenService<GenServiceMethods>>(service: S): PluginClient<S> => {
    if (!plugin) throw new Error("the plugin is not running");
    const made = pluginClient(plugin.handshake, service, tls ? { tls } : {});
    clients.push(made as unknown as PluginClient<GenService<GenServiceMethods>>);
    return made;
  };

  try {
    const start = () => spawnPlugin(command, [...args], { env, handshakeTimeoutMs: timeoutMs });
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

    let registry: ContractRegistry | undefined;
    await record("lists its optional services in its registry exactly as it serves them", async () => {
      const answer = await client(ContractRegistryService).unary("getContractRegistry", {});
      if (!answer.registry) throw new Error("GetContractRegistry answered without a registry");
      if (!answer.registry.pluginName) throw new Error("the registry has no plugin_name");
      registry = answer.registry;
      const advertised = registry.services;
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
    const advertises = (service: DescService) => registry?.services.includes(service.typeName) ?? false;

    await record("refuses a malformed configuration with INVALID_ARGUMENT", async () => {
      const malformed = '{"conformance": ';
      const error = await failureOf(
        client(IaCProviderService).unary("configure", { configJson: new TextEncoder().encode(malformed) }),
      );
      if (error === undefined) {
        throw new Error(
          `Configure accepted config_json that is not JSON (${malformed}); refuse it with INVALID_ARGUMENT saying what is wrong`,
        );
      }
      if (!isFlotillaError(error, Code.InvalidArgument)) {
        throw new Error(
          `Configure of config_json that is not JSON answered ${codeOf(error)}; answer INVALID_ARGUMENT, which a host reports as a configuration error`,
        );
      }
      return `INVALID_ARGUMENT: ${error.message}`;
    });

    await record("accepts its configuration", async () => {
      await client(IaCProviderService).unary("configure", {
        configJson: new TextEncoder().encode(options.configJson ?? ""),
      });
      return options.configJson ? "Configure accepted the given config" : "Configure accepted an empty config";
    });

    const runs = advertises(optionalServiceByKey.runner);
    await jobChecks(record, {
      runner: runs ? client(optionalServiceByKey.runner) : undefined,
      noRunner: "the plugin does not advertise IaCProviderRunner",
      quick: suiteJob(options.job, registry?.conformanceJobs?.quick),
      longRunning: suiteJob(options.longJob, registry?.conformanceJobs?.longRunning),
      health: () => client(health.Health),
      settleMs,
    });

    await record("lists regions sorted, without duplicates", async () => {
      if (!advertises(optionalServiceByKey.regionLister)) {
        throw new NotApplicable("the plugin does not advertise RegionLister");
      }
      const { regions } = await client(optionalServiceByKey.regionLister).unary("listRegions", {});
      const ids = regions.map((region) => region.id);
      const sorted = [...new Set(ids)].sort();
      if (ids.length !== sorted.length) throw new Error(`region ids repeat: ${ids.join(", ")}`);
      if (ids.some((id, i) => id !== sorted[i])) throw new Error(`regions are not sorted by id: ${ids.join(", ")}`);
      return `${ids.length} region(s)`;
    });

    await record("refuses a replica count outside int32 with INVALID_ARGUMENT", async () => {
      if (!advertises(optionalServiceByKey.resourceDriver)) {
        throw new NotApplicable("the plugin does not advertise ResourceDriver");
      }
      const replicas = 2_147_483_648n;
      const error = await failureOf(
        client(optionalServiceByKey.resourceDriver).unary("scaleResource", {
          ref: { type: "conformance.check", name: "conformance-no-such-resource" },
          replicas,
        }),
      );
      if (!isFlotillaError(error, Code.InvalidArgument)) {
        throw new Error(
          `ScaleResource to ${replicas} replicas answered ${error === undefined ? "success" : codeOf(error)}; the contract refuses a count outside int32 with INVALID_ARGUMENT`,
        );
      }
      return `INVALID_ARGUMENT: ${error.message}`;
    });

    for (const made of clients.splice(0)) made.close();
    await exitChecks(record, {
      plugin: plugin as unknown as SpawnedPlugin,
      startAnother: start,
      command,
      args,
      env,
      tls,
      settleMs,
      startTimeoutMs: timeoutMs,
    });
    return finish();
  } finally {
    for (const made of clients) made.close();
    (plugin as SpawnedPlugin | undefined)?.kill();
  }

  function finish(): ConformanceReport {
    return { command: [command, ...args], passed: checks.every((c) => c.status !== "failed"), checks };
  }
}

/** The job given, else the registry's; undefined when neither is. */
function suiteJob(
  given: MessageInitShape<typeof JobSpecSchema> | undefined,
  published: MessageInitShape<typeof JobSpecSchema> | undefined,
): SuiteJob | undefined {
  if (given) return { spec: given, source: "given" };
  return published ? { spec: published, source: "registry's" } : undefined;
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

function shortName(typeName: string): string {
  return typeName.replace(/^flotilla\.plugin\.v1\./, "").replace(/Service$/, "");
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
