/**
 * The error a bad flotilla.yaml produces: the file and one line per problem.
 */

/** A config file that cannot be used; `problems` holds one line per bad key. */
export class ConfigError extends Error {
  constructor(
    /** The file, or a label for config given inline. */
    readonly source: string,
    /** One line per problem: "path.to.key: what is wrong". */
    readonly problems: readonly string[],
  ) {
    super(`${source} is not a valid Flotilla config:\n${problems.map((p) => `  - ${p}`).join("\n")}`);
    this.name = "ConfigError";
  }
}
