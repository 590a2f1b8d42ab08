/**
 * The host's plugin manager: starts several plugins in parallel, finds them
 * by name, hands out provider clients, and stops them all. Embedders use
 * this; the CLI builds on it.
 */
import { EventEmitter } from "node:events";
import { ProcessGroupWatchdog, signalProcessGroup } from "@flotilla/process";
import { InvalidArgumentError, NotFoundError } from "@flotilla/protocol";
import type { CertificatePair } from "@flotilla/protocol/wire";
import { ProviderClient } from "../providerclient/provider-client.js";
import { generateCertificate } from "./auto-mtls.js";
import type { PluginLogSink } from "./log-record.js";
import { pinoLogSink } from "./log-sink.js";
import { ManagedPlugin, type PluginCrash, type PluginState } from "./managed-plugin.js";
import { type PluginConfig, validatePluginConfig } from "./plugin-config.js";
import type { PluginError } from "./plugin-error.js";
import type { StopTimeouts } from "./plugin-process.js";
import { createSocketDir, removeSocketDir } from "./socket-dir.js";

/** Settings of a {@link PluginHost}. */
export interface PluginHostOptions {
  /** Where plugin log records go; default a pino logger on stderr. */
  logSink?: PluginLogSink;
  /** Environment to take base and inherited variables from; default process.env. */
  hostEnv?: Readonly<Record<string, string | undefined>>;
  /** Deadlines of the stop sequence. */
  stopTimeouts?: StopTimeouts;
}

/** Host-level events, each carrying the plugin's name first. */
export interface PluginHostEvents {
  state: [plugin: string, state: PluginState];
  crash: [crash: PluginCrash];
  restarted: [plugin: string];
  "crash-loop": [plugin: string, error: PluginError];
}

/** Processes started by any host in this process, killed (group-wide) if the host process exits without stopping them. */
const liveGroups = new Set<() => void>();
process.once("exit", () => {
  for (const kill of liveGroups) kill();
});

/** Starts, tracks and stops plugins. */
export class PluginHost extends EventEmitter<PluginHostEvents> {
  private readonly managed = new Map<string, ManagedPlugin>();
  private readonly providerClients = new WeakMap<ManagedPlugin, ProviderClient>();
  private readonly sink: PluginLogSink;
  private socketDir: string | undefined;
  private clientCert: Promise<CertificatePair> | undefined;
  /**
   * Kills this host's plugin groups if the host dies without stopping them, even by SIGKILL. Half a second
   * between its SIGTERM and SIGKILL: a plugin's own stop already had its chance, and a Go plugin that ignores
   * SIGTERM should not outlive its host by long.
   */
  private readonly reaper = new ProcessGroupWatchdog({ graceMs: 500 });

  constructor(private readonly options: PluginHostOptions = {}) {
    super();
    this.sink = options.logSink ?? pinoLogSink();
  }

  /**
   * Starts every plugin in parallel. If any fails, the ones that did start
   * are stopped again and the failure is thrown: the {@link PluginError}
   * itself for one, an AggregateError of them for several.
   */
  async start(configs: readonly PluginConfig[]): Promise<void> {
    const names = new Set<string>();
    for (const config of configs) {
      validatePluginConfig(config);
      if (names.has(config.name) || this.managed.has(config.name)) {
        throw new InvalidArgumentError(
          `plugin config ${JSON.stringify(config.name)}: the name is used twice; give each plugin its own name`,
        );
      }
      names.add(config.name);
    }
    this.socketDir ??= createSocketDir();
    const started = configs.map((config) => this.add(config));
    const results = await Promise.allSettled(started.map((p) => p.start()));
    const failures = results.flatMap((r) => (r.status === "rejected" ? [r.reason as Error] : []));
    if (failures.length === 0) return;
    await Promise.all(started.map((p) => p.stop()));
    for (const p of started) this.managed.delete(p.name);
    if (failures.length === 1) throw failures[0];
    throw new AggregateError(
      failures,
      `${failures.length} of ${configs.length} plugins failed to start:\n${failures.map((f) => f.message.split("\n")[0]).join("\n")}`,
    );
  }

  /** The managed plugin called `name`, if started. */
  get(name: string): ManagedPlugin | undefined {
    return this.managed.get(name);
  }

  /** Every managed plugin. */
  list(): ManagedPlugin[] {
    return [...this.managed.values()];
  }

  /** A client for the provider plugin `name`; throws naming the started plugins when there is none. */
  provider(name: string): ProviderClient {
    const plugin = this.managed.get(name);
    if (!plugin) {
      const known = [...this.managed.keys()];
      throw new NotFoundError(
        `no plugin named ${JSON.stringify(name)} was started; ${known.length ? `started: ${known.join(", ")}` : "no plugins were started"}`,
      );
    }
    // One client per plugin, so the typed service clients it builds are made once, not on every call
    // (the registry is read live, so a restart that changes the services is still seen).
    let client = this.providerClients.get(plugin);
    if (!client) {
      client = new ProviderClient(plugin);
      this.providerClients.set(plugin, client);
    }
    return client;
  }

  /** Restarts one plugin, e.g. after a crash loop was fixed. */
  restart(name: string): Promise<void> {
    const plugin = this.managed.get(name);
    if (!plugin) return Promise.reject(new NotFoundError(`no plugin named ${JSON.stringify(name)} was started`));
    return plugin.restart();
  }

  /** Stops every plugin in parallel (Shutdown, SIGTERM, SIGKILL of each group) and removes the socket directory. */
  async stop(): Promise<void> {
    await Promise.all([...this.managed.values()].map((p) => p.stop()));
    this.managed.clear();
    await this.reaper.close();
    if (this.socketDir) removeSocketDir(this.socketDir);
    this.socketDir = undefined;
  }

  /** One AutoMTLS client certificate for all of this host's plugins, made on first use (again if that failed). */
  private sharedClientCertificate(): Promise<CertificatePair> {
    if (!this.clientCert) {
      this.clientCert = generateCertificate();
      this.clientCert.catch(() => {
        this.clientCert = undefined;
      });
    }
    return this.clientCert;
  }

  private add(config: PluginConfig): ManagedPlugin {
    const plugin = new ManagedPlugin(config, {
      sink: this.sink,
      socketDir: this.socketDir as string,
      ...(this.options.hostEnv ? { hostEnv: this.options.hostEnv } : {}),
      ...(this.options.stopTimeouts ? { stopTimeouts: this.options.stopTimeouts } : {}),
      clientCertificate: () => this.sharedClientCertificate(),
      processGroups: this.reaper,
    });
    const killGroup = () => {
      const pid = plugin.current?.pid;
      if (pid !== undefined && !plugin.current?.hasExited) signalProcessGroup(pid, "SIGKILL");
    };
    liveGroups.add(killGroup);
    plugin.on("state", (state) => {
      if (state === "stopped") liveGroups.delete(killGroup);
      else liveGroups.add(killGroup);
      this.emit("state", config.name, state);
    });
    plugin.on("crash", (crash) => this.emit("crash", crash));
    plugin.on("restarted", () => this.emit("restarted", config.name));
    plugin.on("crash-loop", (error) => this.emit("crash-loop", config.name, error));
    this.managed.set(config.name, plugin);
    return plugin;
  }
}
