/**
 * Writes a plugin project from the template shipped in this package (`template/`): every file copied, with
 * the package name, the provider name and the Flotilla version filled in. The Flotilla version is this
 * package's own: create-flotilla-plugin is released together with @flotilla/plugin-sdk and @flotilla/cli,
 * so the project it writes depends on the SDK of the same release.
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import validatePackageName from "validate-npm-package-name";

/** A problem with what was asked, in words for the person who asked: what is wrong and what to do. */
export class CreateError extends Error {
  override readonly name = "CreateError";
}

/** What {@link createPluginProject} needs. */
export interface CreateOptions {
  /** The npm package name of the new plugin, e.g. `my-cloud` or `@acme/flotilla-plugin-my-cloud`. */
  readonly packageName: string;
  /** The folder the project's folder is created in; default the current directory. */
  readonly cwd?: string;
}

/** What was written. */
export interface CreatedProject {
  readonly packageName: string;
  /** The provider name: what flotilla.yaml and job handles call the plugin. */
  readonly provider: string;
  /** The project's folder, absolute. */
  readonly directory: string;
  /** The Flotilla release the project depends on (`@flotilla/plugin-sdk` `^<version>`). */
  readonly flotillaVersion: string;
  /** The files written, relative to `directory`, sorted. */
  readonly files: readonly string[];
}

/** The template's folder, beside `dist/` (and `src/`) in this package. */
export const templateDir = fileURLToPath(new URL("../template/", import.meta.url));

/** Template files that npm would not pack under their real name, and the name they get when written. */
const renamed: Readonly<Record<string, string>> = { gitignore: ".gitignore" };

/** This package's version, which is the Flotilla release it belongs to. */
export function flotillaVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as { version: string };
  return manifest.version;
}

/**
 * The provider name for a package name: the part after the scope, without a `flotilla-plugin-` prefix,
 * other characters than lower-case letters, digits and dashes made dashes (`@acme/flotilla-plugin-my_cloud`
 * gives `my-cloud`). Undefined when that is not a valid provider name (one starting with a letter).
 */
export function providerNameFor(packageName: string): string | undefined {
  const name = packageName
    .replace(/^@[^/]*\//, "")
    .replace(/^flotilla-plugin-/, "")
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "");
  return /^[a-z][a-z0-9-]{0,62}$/.test(name) ? name : undefined;
}

/** Checks the name and the target folder, then writes the project; throws {@link CreateError} for a bad request. */
export function createPluginProject(options: CreateOptions): CreatedProject {
  const { packageName } = options;
  const validity = validatePackageName(packageName);
  if (!validity.validForNewPackages) {
    const reasons = [...(validity.errors ?? []), ...(validity.warnings ?? [])];
    throw new CreateError(
      `${JSON.stringify(packageName)} is not a valid npm package name: ${reasons.join("; ")}. ` +
        "Choose a name such as my-cloud or @acme/flotilla-plugin-my-cloud.",
    );
  }
  const provider = providerNameFor(packageName);
  if (provider === undefined) {
    throw new CreateError(
      `cannot make a provider name from ${JSON.stringify(packageName)}: a provider name starts with a letter ` +
        "and has only lower-case letters, digits and dashes, at most 63 characters (taken from the package name " +
        "without its scope and a flotilla-plugin- prefix). Choose a package name such as my-cloud.",
    );
  }
  const directory = resolve(options.cwd ?? process.cwd(), packageName.replace(/^@[^/]*\//, ""));
  refuseUnlessEmpty(directory, options.cwd ?? process.cwd());

  const version = flotillaVersion();
  const values: Record<string, string> = { packageName, provider, flotillaVersion: version };
  const files = templateFiles(templateDir);
  mkdirSync(directory, { recursive: true });
  const written: string[] = [];
  for (const file of files) {
    const text = readFileSync(join(templateDir, file), "utf8").replace(/\{\{(\w+)\}\}/g, (_, key: string) => {
      const value = values[key];
      if (value === undefined) throw new Error(`template/${file}: unknown placeholder {{${key}}}`);
      return value;
    });
    const target = file
      .split("/")
      .map((part) => renamed[part] ?? part)
      .join("/");
    mkdirSync(join(directory, target, ".."), { recursive: true });
    // "wx": never overwrite, should something appear in the folder while the project is written.
    writeFileSync(join(directory, target), text, { flag: "wx" });
    written.push(target);
  }
  return { packageName, provider, directory, flotillaVersion: version, files: written.sort() };
}

/** Refuses a target that is a file, or a folder with anything in it but a `.git`. */
function refuseUnlessEmpty(directory: string, cwd: string): void {
  if (!existsSync(directory)) return;
  const shown = relative(cwd, directory) || ".";
  if (!statSync(directory).isDirectory()) {
    throw new CreateError(`${shown} exists and is not a folder; choose another name, or move it away.`);
  }
  const entries = readdirSync(directory).filter((entry) => entry !== ".git");
  if (entries.length > 0) {
    const listed = entries.slice(0, 5).join(", ") + (entries.length > 5 ? `, and ${entries.length - 5} more` : "");
    throw new CreateError(
      `${shown} is not empty (it has ${listed}); nothing was written. Choose another name, or empty the folder.`,
    );
  }
}

/** Every file under `dir`, as paths relative to it with `/`, sorted. */
function templateFiles(dir: string, prefix = ""): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .flatMap((entry) => {
      const path = prefix ? `${prefix}/${entry.name}` : entry.name;
      return entry.isDirectory() ? templateFiles(dir, path) : [path];
    })
    .sort();
}
