/**
 * Runs an external tool (go, buf, python3, pip) and collects its output. The
 * interop tests drive other languages' toolchains, and when one fails the
 * only useful message is the command, its exit status and the end of what it
 * printed, so that is what {@link CommandError} carries.
 */
import { spawn } from "node:child_process";

/** How a command is run. */
export interface RunOptions {
  /** Working directory; defaults to the current one. */
  cwd?: string;
  /** The complete environment; defaults to this process's. */
  env?: NodeJS.ProcessEnv;
  /** Kill the command (SIGKILL) after this many milliseconds. */
  timeoutMs?: number;
  /** Written to the command's stdin, which is then closed. */
  input?: string;
}

/** What a command printed, once it exited with status 0. */
export interface RunResult {
  stdout: string;
  stderr: string;
}

/** How many trailing characters of output an error quotes. */
const ERROR_OUTPUT_TAIL = 4000;

/** A command that could not start, exited non-zero, or timed out. */
export class CommandError extends Error {
  constructor(
    /** The command line, for display. */
    readonly command: string,
    /** Exit status, or undefined when the command did not exit on its own. */
    readonly exitCode: number | undefined,
    readonly stdout: string,
    readonly stderr: string,
    why: string,
  ) {
    const tail = (text: string) => (text.length > ERROR_OUTPUT_TAIL ? `…${text.slice(-ERROR_OUTPUT_TAIL)}` : text);
    super(
      `\`${command}\` ${why}` +
        (stderr.trim() ? `\n--- stderr (end) ---\n${tail(stderr.trim())}` : "") +
        (stdout.trim() ? `\n--- stdout (end) ---\n${tail(stdout.trim())}` : ""),
    );
    this.name = "CommandError";
  }
}

/** Runs `command args…` to completion; rejects with a {@link CommandError} unless it exits 0. */
export function runCommand(command: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  const display = [command, ...args].join(" ");
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: options.cwd,
      env: options.env ?? process.env,
      stdio: [options.input === undefined ? "ignore" : "pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    if (options.input !== undefined) child.stdin?.end(options.input);
    const timer =
      options.timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
          }, options.timeoutMs);
    child.on("error", (error) => {
      clearTimeout(timer);
      reject(new CommandError(display, undefined, stdout, stderr, `could not start: ${error.message}`));
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      if (timedOut) {
        reject(new CommandError(display, undefined, stdout, stderr, `timed out after ${options.timeoutMs} ms`));
      } else if (code === 0) {
        resolve({ stdout, stderr });
      } else {
        const why = signal ? `was killed by ${signal}` : `exited with status ${code}`;
        reject(new CommandError(display, code ?? undefined, stdout, stderr, why));
      }
    });
  });
}
