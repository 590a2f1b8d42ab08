/**
 * `create-flotilla-plugin NAME`: writes the project, then says what to do next in the words of the package
 * manager that ran it (`npm create`, `pnpm create`, `yarn create`).
 */
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { CreateError, createPluginProject } from "./create.js";

/** Where the command reads and writes. */
export interface CreateIo {
  readonly cwd: string;
  /** `npm_config_user_agent` as the package manager set it, e.g. "pnpm/10.34.9 npm/? node/v24.21.0 linux x64". */
  readonly userAgent: string | undefined;
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
}

const usage = `Usage: npm create flotilla-plugin NAME

Writes a Flotilla provider plugin project into the folder NAME (without its @scope/):
package.json, tsconfig.json, src/ (the plugin on @flotilla/plugin-sdk, a runner on an in-memory
cloud to replace with yours, its tests and the conformance suite), flotilla.yaml and a README.

NAME is the npm package name, e.g. my-cloud or @acme/flotilla-plugin-my-cloud; the provider name
is taken from it (my-cloud).
`;

/** The commands of one package manager. */
interface Commands {
  readonly install: string;
  readonly test: string;
  readonly exec: string;
}

const managers: Readonly<Record<string, Commands>> = {
  npm: { install: "npm install", test: "npm test", exec: "npx" },
  pnpm: { install: "pnpm install", test: "pnpm test", exec: "pnpm exec" },
  yarn: { install: "yarn", test: "yarn test", exec: "yarn" },
};

/** Runs the command; returns its exit code (0 written, 1 refused, 2 bad usage). */
export function runCreate(argv: readonly string[], io: CreateIo): number {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    io.stderr(`create-flotilla-plugin: ${(error as Error).message}\n\n${usage}`);
    return 2;
  }
  if (parsed.values.help) {
    io.stdout(usage);
    return 0;
  }
  const [packageName, ...extra] = parsed.positionals;
  if (packageName === undefined || extra.length > 0) {
    io.stderr(
      `create-flotilla-plugin: ${packageName === undefined ? "no NAME given" : `one NAME expected, got ${parsed.positionals.length}`}\n\n${usage}`,
    );
    return 2;
  }
  try {
    const created = createPluginProject({ packageName, cwd: io.cwd });
    const folder = packageName.replace(/^@[^/]*\//, "");
    const pm = managers[io.userAgent?.split("/")[0] ?? ""] ?? (managers.npm as Commands);
    const steps: [string, string][] = [
      [`cd ${folder}`, ""],
      [pm.install, ""],
      [pm.test, "builds, then runs the plugin's tests and the conformance suite"],
      [`${pm.exec} flotilla run -- hello world`, "runs a job on the plugin (flotilla.yaml names it)"],
    ];
    const width = Math.max(...steps.map(([command]) => command.length));
    io.stdout(
      `Created ${created.packageName} in ${relative(io.cwd, created.directory)}/: the Flotilla provider plugin "${created.provider}" ` +
        `on @flotilla/plugin-sdk ^${created.flotillaVersion}.\n\nNext:\n` +
        steps.map(([command, why]) => `  ${why ? `${command.padEnd(width)}   ${why}` : command}\n`).join("") +
        "\nThen replace the in-memory cloud (src/cloud.ts) with your cloud's API: README.md says how.\n",
    );
    return 0;
  } catch (error) {
    if (!(error instanceof CreateError)) throw error;
    io.stderr(`create-flotilla-plugin: ${error.message}\n`);
    return 1;
  }
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    options: { help: { type: "boolean", short: "h" } },
    allowPositionals: true,
  });
}
