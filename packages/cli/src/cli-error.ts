/**
 * An error the CLI reports as one message and an exit code, without a stack
 * trace: bad input or a provider that cannot do what was asked.
 */
import { EXIT_USAGE_OR_HOST_ERROR } from "./exit-status.js";

/** A failure with a message meant for the operator. */
export class CliError extends Error {
  constructor(
    message: string,
    /** The process exit code to use. */
    readonly exitCode: number = EXIT_USAGE_OR_HOST_ERROR,
  ) {
    super(message);
    this.name = "CliError";
  }
}
