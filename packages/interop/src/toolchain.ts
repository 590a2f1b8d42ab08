/**
 * Brings up the other languages' toolchains the interop tests need, from the
 * registries only (the Go module proxy and PyPI), into the repository's
 * ignored `.tmp/interop` cache, and generates the Go and Python stubs with
 * buf and the committed templates. Every step is skipped when its inputs
 * have not changed since the last run, and guarded by a lock because vitest
 * runs the test files that share it in parallel processes.
 */
import { createHash } from "node:crypto";
import { access, mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { delimiter, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { withFileLock } from "./file-lock.js";
import { ensureGo } from "./go-bootstrap.js";
import { runCommand } from "./run-command.js";

/** The repository root (this file sits in packages/interop/src or dist). */
export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "../../..");

/** The interop package directory. */
export const interopDir = join(repoRoot, "packages", "interop");

/** The Go module of the interop package (go.mod, cmd/, generated gen/). */
export const goModuleDir = join(interopDir, "go");

/** Where the Python stubs are generated (the buf template's out). */
export const pythonGenDir = join(interopDir, "python", "gen");

/** Ignored cache for tools, binaries and the venv; FLOTILLA_INTEROP_CACHE overrides it. */
export const cacheDir = process.env.FLOTILLA_INTEROP_CACHE ?? join(repoRoot, ".tmp", "interop");

/**
 * The Go code generators, pinned. protoc-gen-go must match the
 * google.golang.org/protobuf version in go/go.mod (a test checks it).
 */
export const goGenerators = [
  { name: "protoc-gen-go", module: "google.golang.org/protobuf/cmd/protoc-gen-go", version: "v1.36.12" },
  { name: "protoc-gen-go-grpc", module: "google.golang.org/grpc/cmd/protoc-gen-go-grpc", version: "v1.6.2" },
] as const;

/** The Go programs of the interop module, built by {@link prepareGo}. */
export type GoProgram = "stubcheck" | "regionplugin" | "gohost" | "clientcert";

/** What {@link prepareGo} produced. */
export interface GoToolchain {
  /** Environment for `go` commands in the interop module (GOBIN, PATH). */
  env: NodeJS.ProcessEnv;
  /** Absolute path of each built program. */
  programs: Record<GoProgram, string>;
}

/** What {@link preparePython} produced. */
export interface PythonToolchain {
  /** The venv's Python, which has python/requirements.txt installed. */
  python: string;
  /** Environment that puts the generated stubs on PYTHONPATH. */
  env: NodeJS.ProcessEnv;
}

const MINUTE = 60_000;
const binDir = join(cacheDir, "bin");
const venvDir = join(cacheDir, "venv");
const locksDir = join(cacheDir, "locks");

function withPath(env: NodeJS.ProcessEnv, ...dirs: string[]): NodeJS.ProcessEnv {
  return { ...env, PATH: [...dirs, env.PATH ?? ""].join(delimiter) };
}

const baseGoEnv = withPath({ ...process.env, GOBIN: binDir }, binDir, join(repoRoot, "node_modules", ".bin"));

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/** A digest of the given files' paths and contents, and of any extra strings. */
async function fingerprint(files: readonly string[], extra: readonly string[]): Promise<string> {
  const hash = createHash("sha256");
  for (const file of [...files].sort()) {
    hash
      .update(file)
      .update("\0")
      .update(await readFile(file))
      .update("\0");
  }
  for (const value of extra) hash.update(value).update("\0");
  return hash.digest("hex");
}

async function protoFiles(): Promise<string[]> {
  const dir = join(repoRoot, "proto");
  const entries = await readdir(dir, { recursive: true });
  return entries.filter((entry) => entry.endsWith(".proto")).map((entry) => join(dir, entry));
}

/** Runs `produce` unless `stampName` already records `digest` and `output` exists. */
async function unlessUnchanged(stampName: string, digest: string, output: string, produce: () => Promise<void>) {
  const stamp = join(cacheDir, `${stampName}.stamp`);
  const recorded = await readFile(stamp, "utf8").catch(() => "");
  if (recorded === digest && (await exists(output))) return;
  await produce();
  await writeFile(stamp, digest);
}

/**
 * Checks that a tool the interop tests cannot install themselves is on PATH,
 * and fails with what to install when it is not.
 */
async function requireTool(command: string, args: readonly string[], install: string): Promise<string> {
  try {
    const { stdout, stderr } = await runCommand(command, args, { env: baseGoEnv, timeoutMs: 60_000 });
    return (stdout || stderr).trim();
  } catch (error) {
    throw new Error(
      `the interop tests (packages/interop) need \`${command}\` on PATH, and \`${[command, ...args].join(" ")}\` failed; ` +
        `${install}\n${(error as Error).message}`,
    );
  }
}

async function ensureGoGenerators(goEnv: NodeJS.ProcessEnv): Promise<void> {
  for (const generator of goGenerators) {
    const installed = join(binDir, generator.name);
    const version = await runCommand(installed, ["--version"]).then(
      (result) => result.stdout,
      () => "",
    );
    if (version.includes(generator.version.replace(/^v/, ""))) continue;
    await runCommand("go", ["install", `${generator.module}@${generator.version}`], {
      cwd: cacheDir,
      env: goEnv,
      timeoutMs: 10 * MINUTE,
    });
  }
}

let goPrepared: Promise<GoToolchain> | undefined;

/**
 * Installs the pinned Go generators, generates the Go stubs with
 * packages/interop/buf.gen.go.yaml, and builds the interop module's programs
 * (the first run downloads modules from the Go proxy: minutes, not seconds).
 */
export function prepareGo(): Promise<GoToolchain> {
  goPrepared ??= (async () => {
    await mkdir(locksDir, { recursive: true });
    return withFileLock(join(locksDir, "go"), 20 * MINUTE, async () => {
      // The go on PATH, or the pinned toolchain fetched from the Go module proxy.
      const go = await ensureGo(cacheDir, { env: baseGoEnv });
      const goEnv = go.binDir ? withPath({ ...baseGoEnv, GOTOOLCHAIN: "local" }, go.binDir) : baseGoEnv;
      await ensureGoGenerators(goEnv);
      const template = join(interopDir, "buf.gen.go.yaml");
      const digest = await fingerprint(
        [...(await protoFiles()), template],
        goGenerators.map((g) => g.version),
      );
      await unlessUnchanged("go-stubs", digest, join(goModuleDir, "gen"), async () => {
        await runCommand("buf", ["generate", "--template", template], {
          cwd: repoRoot,
          env: goEnv,
          timeoutMs: 5 * MINUTE,
        });
      });
      // go build keeps its own cache, so an unchanged module builds in seconds.
      await runCommand("go", ["build", "-o", `${binDir}/`, "./..."], {
        cwd: goModuleDir,
        env: goEnv,
        timeoutMs: 15 * MINUTE,
      });
      const program = (name: GoProgram) => join(binDir, name);
      return {
        env: goEnv,
        programs: {
          stubcheck: program("stubcheck"),
          regionplugin: program("regionplugin"),
          gohost: program("gohost"),
          clientcert: program("clientcert"),
        },
      };
    });
  })();
  return goPrepared;
}

let pythonPrepared: Promise<PythonToolchain> | undefined;

/** The Python example plugin (run by the interop tests under the conformance suite). */
export const pythonExampleDir = join(repoRoot, "examples", "python-provider");

/**
 * Creates a venv with python/requirements.txt (grpcio-tools from PyPI) and the
 * Python example plugin's requirements, and generates the Python stubs with
 * packages/interop/buf.gen.python.yaml.
 */
export function preparePython(): Promise<PythonToolchain> {
  pythonPrepared ??= (async () => {
    await mkdir(locksDir, { recursive: true });
    return withFileLock(join(locksDir, "python"), 20 * MINUTE, async () => {
      const python = join(venvDir, "bin", "python");
      const requirements = join(interopDir, "python", "requirements.txt");
      const exampleRequirements = join(pythonExampleDir, "requirements.txt");
      const systemPython = await requireTool(
        "python3",
        ["--version"],
        "install Python 3 with its venv module (on Debian/Ubuntu: apt-get install -y python3 python3-venv)",
      );
      const venvInputs = [requirements, exampleRequirements];
      await unlessUnchanged("venv", await fingerprint(venvInputs, [systemPython]), python, async () => {
        await runCommand("python3", ["-m", "venv", "--clear", venvDir], { timeoutMs: 5 * MINUTE }).catch((error) => {
          throw new Error(
            `could not create a Python venv in ${venvDir}; the interop tests need python3 with the venv module ` +
              `(on Debian/Ubuntu: apt-get install -y python3-venv)\n${(error as Error).message}`,
          );
        });
        const install = venvInputs.flatMap((file) => ["-r", file]);
        await runCommand(python, ["-m", "pip", "install", "--disable-pip-version-check", ...install], {
          timeoutMs: 10 * MINUTE,
        });
      });
      const venvEnv = withPath(process.env, join(venvDir, "bin"), join(repoRoot, "node_modules", ".bin"));
      const template = join(interopDir, "buf.gen.python.yaml");
      const plugin = join(interopDir, "python", "grpc_tools_plugin.py");
      const digest = await fingerprint([...(await protoFiles()), template, plugin, requirements], []);
      await unlessUnchanged("python-stubs", digest, pythonGenDir, async () => {
        await runCommand("buf", ["generate", "--template", template], {
          cwd: repoRoot,
          env: venvEnv,
          timeoutMs: 5 * MINUTE,
        });
      });
      return { python, env: { ...venvEnv, PYTHONPATH: pythonGenDir } };
    });
  })();
  return pythonPrepared;
}
