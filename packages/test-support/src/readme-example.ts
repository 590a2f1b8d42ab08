/**
 * Runs a package README's example exactly as written: the js code block right after
 * `<!-- example: NAME ... -->`, as a file inside the package so that its `import "@flotilla/…"` resolves to
 * that package's built dist/, the way a user's program would.
 */
import { execFile } from "node:child_process";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";

/** The code block right after `<!-- example: NAME ... -->` in `packageDir`'s README.md. */
export function readmeExample(packageDir: string, name: string): string {
  const readme = readFileSync(join(packageDir, "README.md"), "utf8");
  const match = new RegExp(`<!-- example: ${name}[^>]*-->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``).exec(readme);
  if (!match?.[1]) throw new Error(`${packageDir}README.md has no js block after <!-- example: ${name} -->`);
  return match[1];
}

/** Runs README example `name` of `packageDir` with `cwd` as its working directory; resolves to its stdout. */
export async function runReadmeExample(packageDir: string, name: string, cwd: string): Promise<string> {
  const file = join(packageDir, `.readme-example-${name}-${process.pid}.mjs`);
  writeFileSync(file, readmeExample(packageDir, name));
  try {
    const { stdout } = await promisify(execFile)(process.execPath, [file], { cwd, timeout: 60_000 });
    return stdout;
  } finally {
    rmSync(file, { force: true });
  }
}
