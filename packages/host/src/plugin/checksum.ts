/**
 * The optional SHA-256 check of a plugin executable, done before every start
 * so a replaced binary is never run.
 */
import { createHash } from "node:crypto";
import { constants, createReadStream } from "node:fs";
import { access } from "node:fs/promises";
import path from "node:path";
import { PluginError } from "./plugin-error.js";

/** Finds the file a command runs: itself when it has a slash, else the first executable match on `searchPath`. */
export async function resolveExecutable(
  command: string,
  searchPath: string | undefined,
  cwd: string,
): Promise<string | undefined> {
  if (command.includes("/") || command.includes(path.sep)) return path.resolve(cwd, command);
  for (const dir of (searchPath ?? "").split(path.delimiter)) {
    if (dir === "") continue;
    const candidate = path.join(dir, command);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

/** SHA-256 of a file, lower-case hex. */
export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

/** Throws a {@link PluginError} (phase spawn) unless the executable's SHA-256 is `expected`. */
export async function verifyChecksum(
  plugin: string,
  command: string,
  expected: string,
  searchPath: string | undefined,
  cwd: string,
): Promise<void> {
  const file = await resolveExecutable(command, searchPath, cwd);
  if (file === undefined) {
    throw new PluginError(`cannot check its SHA-256: command ${JSON.stringify(command)} is not on the plugin's PATH`, {
      plugin,
      phase: "spawn",
    });
  }
  let actual: string;
  try {
    actual = await sha256File(file);
  } catch (cause) {
    throw new PluginError(`cannot read ${file} to check its SHA-256: ${(cause as Error).message}`, {
      plugin,
      phase: "spawn",
      cause,
    });
  }
  if (actual !== expected.toLowerCase()) {
    throw new PluginError(
      `checksum mismatch for ${file}: expected sha256 ${expected.toLowerCase()}, actual ${actual}; ` +
        "the executable changed since the checksum was configured: reinstall the plugin or update sha256 in its config",
      { plugin, phase: "spawn" },
    );
  }
}
