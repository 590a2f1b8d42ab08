/**
 * One plugin under supervision: started once, restarted with backoff after
 * a crash, reported as a crash loop when it keeps dying, and the transport
 * its clients call through — calls in flight when it dies fail at once with
 * a retriable UnavailableError naming it.
 */
import { EventEmitter } from "node:events";
import type {
  DescMessage,
  DescMethodServerStreaming,
  DescMethodUnary,
  MessageInitShape,
  MessageShape,
} from "@bufbuild/protobuf";
import type { ProcessGroupRegistry } from "@flotilla/process";
import {
  Code,
  type ContractRegistry,
  FailedPreconditionError,
  isFlotillaError,
  UnavailableError,
} from "@flotilla/protocol";
import type { CertificatePair } from "@flotilla/protocol/wire";
import { connectivityState } from "@grpc/grpc-js";
import type { CallOptions } from "../rpc/call-options.js";
import { serverStreamCall } from "../rpc/server-stream-call.js";
import type { PluginTransport } from "../rpc/transport.js";
import { unaryCall } from "../rpc/unary-call.js";
import type { PluginLogSink } from "./log-record.js";
import type { PluginConfig } from "./plugin-config.js";
import { PluginError } from "./plugin-error.js";
import { PluginProcess, type StopTimeouts } from "./plugin-process.js";
import { RestartPolicy } from "./restart-policy.js";
import type { ExitInfo } from "./spawn.js";

/** Where a managed plugin is in its life. */
export type PluginState = "idle" | "starting" | "ready" | "restarting" | "crash-loop" | "stopping" | "stopped";

/** Payload of the `crash` event. */
export interface PluginCrash {
  plugin: string;
  exit: ExitInfo;
  stderrTail: string[];
}

/** Events: `state` (state), `crash` (PluginCrash), `restarted` (PluginProcess), `restart-failed` (PluginError), `crash-loop` (PluginError). */
export interface ManagedPluginEvents {
  state: [PluginState];
  crash: [PluginCrash];
  restarted: [PluginProcess];
  "restart-failed": [PluginError];
  "crash-loop": [PluginError];
}

/**
 * Runs `callback` once after `delayMs` and returns what cancels it. The
 * default is setTimeout; a test injects its own to see the delay it was
 * given and to decide when it fires.
 */
export type SetTimer = (callback: () => void, delayMs: number) => () => void;

/** The default {@link SetTimer}: setTimeout, cancelled with clearTimeout. */
export const setTimerWithTimeout: SetTimer = (callback, delayMs) => {
  const timer = setTimeout(callback, delayMs);
  return () => clearTimeout(timer);
};

/** Host-wide settings a managed plugin needs. */
export interface ManagedPluginOptions {
  sink: PluginLogSink;
  socketDir: string;
  hostEnv?: Readonly<Record<string, string | undefined>>;
  stopTimeouts?: StopTimeouts;
  /** The host's shared AutoMTLS client certificate. */
  clientCertificate?: () => Promise<CertificatePair>;
  /** The host's watchdog of process groups. */
  processGroups?: ProcessGroupRegistry;
  /** Waits out the restart policy's backoff before a restart; default setTimeout. */
  setRestartTimer?: SetTimer;
}

function describeExit(exit: ExitInfo): string {
  if (exit.signal) return `was killed by ${exit.signal}`;
  if (exit.exitCode !== undefined) return `exited with code ${exit.exitCode}`;
  return "exited";
}

/** A supervised plugin; also the transport of its service clients. */
export class ManagedPlugin extends EventEmitter<ManagedPluginEvents> implements PluginTransport {
  private process: PluginProcess | undefined;
  private currentState: PluginState = "idle";
  private readonly policy: RestartPolicy;
  private cancelRestart: (() => void) | undefined;
  private readonly inFlight = new Set<AbortController>();
  private lastRegistry: ContractRegistry | undefined;
  private lastError: PluginError | undefined;
  private pendingStart: Promise<PluginProcess> | undefined;

  constructor(
    /** The plugin's config. */
    readonly config: PluginConfig,
    private readonly options: ManagedPluginOptions,
  ) {
    super();
    this.policy = new RestartPolicy(config.restart);
  }

  /** The plugin's name. */
  get name(): string {
    return this.config.name;
  }

  /** Its current state. */
  get state(): PluginState {
    return this.currentState;
  }

  /** The running process, when there is one. */
  get current(): PluginProcess | undefined {
    return this.process;
  }

  /** The registry read at the last successful start. */
  get registry(): ContractRegistry | undefined {
    return this.lastRegistry;
  }

  /** The error that ended the last restart attempt or the crash loop. */
  get error(): PluginError | undefined {
    return this.lastError;
  }

  /** Starts the plugin; throws the {@link PluginError} of the failed phase. */
  async start(): Promise<void> {
    if (this.currentState !== "idle" && this.currentState !== "stopped") {
      throw new FailedPreconditionError(
        `plugin "${this.name}" is ${this.currentState}; start() only applies to a plugin that is not running`,
      );
    }
    this.setState("starting");
    try {
      const proc = await this.spawnProcess();
      if (this.state !== "starting") {
        // stop() was called while the process started: it must not outlive that call.
        await proc.stop(this.options.stopTimeouts);
        throw new PluginError("the host stopped it while it was starting", { plugin: this.name, phase: "spawn" });
      }
      this.adopt(proc);
    } catch (err) {
      if (this.state === "starting") this.setState("stopped");
      throw err;
    }
  }

  /** Stops the plugin (no restart afterwards), waits for a start in progress, and fails calls still in flight. */
  async stop(): Promise<void> {
    this.cancelRestart?.();
    this.cancelRestart = undefined;
    const proc = this.process;
    const pending = this.pendingStart;
    this.setState("stopping");
    // Fail the host's own calls first: an open stream (a followed JobLogs) would otherwise keep the plugin's
    // graceful shutdown waiting until the kill deadline.
    this.failInFlight(new UnavailableError(`plugin "${this.name}" was stopped while the call was in flight`));
    await Promise.all([
      proc?.stop(this.options.stopTimeouts),
      pending?.then((p) => p.stop(this.options.stopTimeouts)).catch(() => undefined),
    ]);
    this.process = undefined;
    this.setState("stopped");
  }

  /** {@inheritDoc PluginTransport.unary} */
  async unary<I extends DescMessage, O extends DescMessage>(
    method: DescMethodUnary<I, O>,
    request: MessageInitShape<I>,
    options?: CallOptions,
  ): Promise<MessageShape<O>> {
    const proc = this.readyProcess(method.name);
    const { controller, release } = this.track(options?.signal);
    try {
      return await unaryCall(proc.client, method, request, { ...options, signal: controller.signal });
    } catch (err) {
      throw await this.explain(err, controller, proc);
    } finally {
      release();
    }
  }

  /** {@inheritDoc PluginTransport.serverStream} */
  async *serverStream<I extends DescMessage, O extends DescMessage>(
    method: DescMethodServerStreaming<I, O>,
    request: MessageInitShape<I>,
    options?: CallOptions,
  ): AsyncGenerator<MessageShape<O>> {
    const proc = this.readyProcess(method.name);
    const { controller, release } = this.track(options?.signal);
    try {
      yield* serverStreamCall(proc.client, method, request, { ...options, signal: controller.signal });
    } catch (err) {
      throw await this.explain(err, controller, proc);
    } finally {
      release();
    }
  }

  private readyProcess(methodName: string): PluginProcess {
    const proc = this.process;
    if (this.currentState === "ready" && proc && !proc.hasExited) return proc;
    const why =
      this.currentState === "crash-loop"
        ? `is in a crash loop (${this.lastError?.message.split("\n")[0]})`
        : `is ${this.currentState}`;
    const details = { metadata: { plugin: this.name, state: this.currentState } };
    // Starting or restarting will pass: retriable. A crash loop or a stopped plugin will not change by
    // itself, so retrying callers (pollers) must not spin on it: not retriable.
    if (this.currentState === "crash-loop" || this.currentState === "stopped" || this.currentState === "stopping") {
      throw new FailedPreconditionError(
        `plugin "${this.name}" ${why}; ${methodName} was not sent${this.currentState === "crash-loop" ? `; fix it, then host.restart("${this.name}")` : ""}`,
        details,
      );
    }
    throw new UnavailableError(`plugin "${this.name}" ${why}; ${methodName} was not sent`, details);
  }

  /** Links the caller's signal to a controller the host can abort when the plugin dies. */
  private track(signal: AbortSignal | undefined): { controller: AbortController; release: () => void } {
    const controller = new AbortController();
    const forward = () => controller.abort(signal?.reason);
    if (signal?.aborted) forward();
    else signal?.addEventListener("abort", forward, { once: true });
    this.inFlight.add(controller);
    return {
      controller,
      release: () => {
        signal?.removeEventListener("abort", forward);
        this.inFlight.delete(controller);
      },
    };
  }

  /** Replaces a transport failure caused by the plugin's death with a clear, retriable error. */
  private async explain(err: unknown, controller: AbortController, proc: PluginProcess): Promise<unknown> {
    if (controller.signal.reason instanceof UnavailableError) return controller.signal.reason;
    // The socket can break a moment before the exit is reaped: when the channel is no longer connected, wait
    // briefly for the exit to tell a crash from an UnavailableError the plugin itself returned.
    if (
      isFlotillaError(err, Code.Unavailable) &&
      proc.client.getChannel().getConnectivityState(false) !== connectivityState.READY
    ) {
      const exited = await Promise.race([proc.exited, new Promise((r) => setTimeout(r, 500, undefined))]);
      if (exited) return this.crashError(exited as ExitInfo, proc, err);
    }
    return err;
  }

  private crashError(exit: ExitInfo, proc: PluginProcess, cause?: unknown): UnavailableError {
    const detail = new PluginError(`the plugin ${describeExit(exit)} during a call`, {
      plugin: this.name,
      phase: "call",
      ...(exit.exitCode !== undefined ? { exitCode: exit.exitCode } : {}),
      ...(exit.signal ? { signal: exit.signal } : {}),
      stderrTail: proc.stderrTail(),
      cause,
    });
    return new UnavailableError(
      `plugin "${this.name}" ${describeExit(exit)} while the call was in flight; retry the call`,
      {
        cause: detail,
        metadata: { plugin: this.name },
      },
    );
  }

  private failInFlight(reason: UnavailableError): void {
    for (const c of this.inFlight) c.abort(reason);
    this.inFlight.clear();
  }

  /** Starts a process, remembering the attempt so stop() can wait for it. */
  private spawnProcess(): Promise<PluginProcess> {
    const attempt = PluginProcess.start({
      config: this.config,
      sink: this.options.sink,
      socketDir: this.options.socketDir,
      ...(this.options.hostEnv ? { hostEnv: this.options.hostEnv } : {}),
      ...(this.options.clientCertificate ? { clientCertificate: this.options.clientCertificate } : {}),
      ...(this.options.processGroups ? { processGroups: this.options.processGroups } : {}),
    });
    this.pendingStart = attempt;
    const clear = () => {
      if (this.pendingStart === attempt) this.pendingStart = undefined;
    };
    attempt.then(clear, clear);
    return attempt;
  }

  private adopt(proc: PluginProcess): void {
    this.process = proc;
    this.lastRegistry = proc.registry;
    this.setState("ready");
    proc.exited.then((exit) => this.onExit(proc, exit));
  }

  private onExit(proc: PluginProcess, exit: ExitInfo): void {
    if (this.process !== proc || this.currentState === "stopping" || this.currentState === "stopped") return;
    this.failInFlight(this.crashError(exit, proc));
    const stderrTail = proc.stderrTail();
    this.options.sink({
      plugin: this.name,
      level: "error",
      message: `plugin ${describeExit(exit)} unexpectedly`,
      fields: { ...exit },
      source: "stderr",
    });
    this.emit("crash", { plugin: this.name, exit, stderrTail });
    this.scheduleRestart(exit, stderrTail);
  }

  private scheduleRestart(exit: ExitInfo, stderrTail: string[]): void {
    const decision = this.policy.recordCrash();
    if (decision.action === "give-up") {
      const s = this.policy.settings;
      const summary =
        decision.reason === "crash-loop"
          ? `crash loop: it ${describeExit(exit)} ${decision.crashesInWindow} times within ${s.windowMs} ms; not restarting it again (restart it with host.restart("${this.name}") once fixed)`
          : `it ${describeExit(exit)} and restarts are disabled`;
      this.lastError = new PluginError(summary, {
        plugin: this.name,
        phase: "call",
        ...(exit.exitCode !== undefined ? { exitCode: exit.exitCode } : {}),
        ...(exit.signal ? { signal: exit.signal } : {}),
        stderrTail,
      });
      this.process = undefined;
      this.setState("crash-loop");
      this.emit("crash-loop", this.lastError);
      return;
    }
    this.setState("restarting");
    const setTimer = this.options.setRestartTimer ?? setTimerWithTimeout;
    this.cancelRestart = setTimer(() => {
      this.cancelRestart = undefined;
      this.spawnProcess().then(
        (proc) => {
          if (this.currentState !== "restarting") {
            // Stopped while it was restarting: nothing waits for this stop, so it must not reject unobserved.
            proc.stop(this.options.stopTimeouts).catch(() => undefined);
            return;
          }
          this.adopt(proc);
          this.emit("restarted", proc);
        },
        (thrown: unknown) => {
          if (this.currentState !== "restarting") return;
          // spawnProcess fails with PluginError, but anything else (e.g. certificate generation) must not
          // turn into an unhandled rejection that takes the host down and leaves the plugin "restarting".
          const err =
            thrown instanceof PluginError
              ? thrown
              : new PluginError(`restart failed: ${thrown instanceof Error ? thrown.message : String(thrown)}`, {
                  plugin: this.name,
                  phase: "spawn",
                  stderrTail: [],
                  cause: thrown,
                });
          this.lastError = err;
          this.emit("restart-failed", err);
          this.scheduleRestart({ ...(err.exitCode !== undefined ? { exitCode: err.exitCode } : {}) }, [
            ...err.stderrTail,
          ]);
        },
      );
    }, decision.delayMs);
  }

  /** Restarts a plugin that is in a crash loop or stopped, forgetting nothing of its crash history. */
  async restart(): Promise<void> {
    // Any state with a process or a pending start/restart is stopped first (stop() waits for a start in
    // progress), so a restart can never leave a second plugin process running unowned.
    if (this.currentState !== "stopped" && this.currentState !== "crash-loop") await this.stop();
    this.setState("stopped");
    await this.start();
  }

  private setState(state: PluginState): void {
    if (state === this.currentState) return;
    this.currentState = state;
    this.emit("state", state);
  }
}
