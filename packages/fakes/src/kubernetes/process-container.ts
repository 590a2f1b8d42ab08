/**
 * The fakes' stand-in for a kubelet: runs a container's command as a local
 * process (the image is ignored), so fake Pods and fake Argo workflows
 * produce real output and real exit codes the runners under test must carry
 * back. Output of stdout and stderr is merged in arrival order, as the
 * Kubernetes log endpoint merges them.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { EventEmitter } from "node:events";
import { signalProcessGroup } from "@flotilla/process";

/** What to run. */
export interface ProcessContainerSpec {
  readonly command: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly workingDir?: string;
}

/** A container's state in the words of the Kubernetes ContainerState. */
export type ProcessContainerState =
  | { readonly kind: "running"; readonly startedAt: Date }
  | {
      readonly kind: "terminated";
      readonly startedAt: Date;
      readonly finishedAt: Date;
      readonly exitCode: number;
      readonly reason: string;
    };

/** One running (or finished) command. Emits "output" (chunk) and "exit". */
export class ProcessContainer extends EventEmitter {
  /** Everything written so far, stdout and stderr interleaved. */
  log = "";
  #state: ProcessContainerState;
  readonly #child: ChildProcess | undefined;
  #killReason: string | undefined;

  constructor(spec: ProcessContainerSpec) {
    super();
    const startedAt = new Date();
    this.#state = { kind: "running", startedAt };
    const [file, ...args] = spec.command;
    if (!file) {
      this.#state = {
        kind: "terminated",
        startedAt,
        finishedAt: new Date(),
        exitCode: 128,
        reason: "ContainerCannotRun",
      };
      this.log = "fake kubelet: container has no command\n";
      return;
    }
    const child = spawn(file, args, {
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", ...spec.env },
      cwd: spec.workingDir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.#child = child;
    const append = (chunk: Buffer): void => {
      const text = chunk.toString("utf8");
      this.log += text;
      this.emit("output", text);
    };
    child.stdout?.on("data", append);
    child.stderr?.on("data", append);
    child.on("error", (error) => {
      this.log += `fake kubelet: ${error.message}\n`;
    });
    child.on("close", (code, signal) => {
      const exitCode = code ?? (signal ? 128 + (signalNumbers[signal] ?? 9) : 1);
      this.#state = {
        kind: "terminated",
        startedAt,
        finishedAt: new Date(),
        exitCode,
        reason: this.#killReason ?? (signal ? "Killed" : exitCode === 0 ? "Completed" : "Error"),
      };
      this.emit("exit", exitCode);
    });
  }

  /** The current state. */
  get state(): ProcessContainerState {
    return this.#state;
  }

  /** Resolves once the command has exited. */
  exited(): Promise<void> {
    if (this.#state.kind === "terminated") return Promise.resolve();
    return new Promise((resolve) => this.once("exit", () => resolve()));
  }

  /**
   * Kills the process group (as a kubelet kills a deleted Pod's containers); `reason` replaces "Killed" in
   * the terminated state, e.g. "OOMKilled" for a container over its memory limit (Kubernetes docs, "Assign
   * Memory Resources to Containers and Pods"; see FakeKubernetes's oomKill).
   */
  kill(reason?: string): void {
    const pid = this.#child?.pid;
    if (pid === undefined || this.#state.kind === "terminated") return;
    if (reason) this.#killReason = reason;
    signalProcessGroup(pid, "SIGKILL");
  }
}

const signalNumbers: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2 };
