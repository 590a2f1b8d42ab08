/**
 * The error a bad flotilla.yaml produces: the file and one line per problem.
 */

/** How many problems the message lists; the rest are counted, so a badly wrong file gives a readable error. */
export const PROBLEMS_SHOWN = 20;

/** A config file that cannot be used; `problems` holds one line per bad key. */
export class ConfigError extends Error {
  constructor(
    /** The file, or a label for config given inline. */
    readonly source: string,
    /** One line per problem: "path.to.key: what is wrong". */
    readonly problems: readonly string[],
  ) {
    const shown = problems.slice(0, PROBLEMS_SHOWN).map((p) => `  - ${p}`);
    const more = problems.length - PROBLEMS_SHOWN;
    if (more > 0) shown.push(`  - and ${more} more problem${more === 1 ? "" : "s"} (fix these first)`);
    super(`${source} is not a valid Flotilla config:\n${shown.join("\n")}`);
    this.name = "ConfigError";
  }
}
