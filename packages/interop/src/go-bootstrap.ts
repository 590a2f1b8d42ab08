/**
 * Finds a Go toolchain for the interop tests, or fetches one. The Go module
 * proxy serves Go itself as the module golang.org/toolchain (that is how
 * `GOTOOLCHAIN` downloads new Go versions), so a machine with only Node can
 * still run the Go proof: the pinned toolchain zip is downloaded from the
 * proxy, checked against the SHA-256 recorded here, and unpacked into the
 * ignored cache. A Go already on PATH is always preferred.
 */
import { createHash } from "node:crypto";
import { access, mkdir, rename, rm, writeFile } from "node:fs/promises";
import { arch, platform } from "node:os";
import { join } from "node:path";
import { runCommand } from "./run-command.js";
import { extractZip } from "./zip-extract.js";

/** The Go release fetched when no `go` is on PATH. */
export const GO_TOOLCHAIN_VERSION = "go1.26.8";

/**
 * SHA-256 of the proxy's golang.org/toolchain zip per platform. The proxy's
 * zips never change once published, so a mismatch means a broken or
 * tampered download. Platforms missing here need Go installed.
 */
export const GO_TOOLCHAIN_SHA256: Readonly<Record<string, string>> = {
  "linux-amd64": "30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7",
};

/** The Go module proxy; GOPROXY's first entry when it is an https URL. */
export function goProxyBase(env: NodeJS.ProcessEnv = process.env): string {
  const first = (env.GOPROXY ?? "").split(/[,|]/)[0]?.trim() ?? "";
  return first.startsWith("https://") ? first.replace(/\/$/, "") : "https://proxy.golang.org";
}

/** Go's name for this machine, e.g. "linux-amd64". */
export function goPlatform(): string {
  const goArch: Record<string, string> = { x64: "amd64", arm64: "arm64", ia32: "386", arm: "arm" };
  return `${platform()}-${goArch[arch()] ?? arch()}`;
}

/** Where {@link ensureGo} found or put Go. */
export interface GoLocation {
  /** Directory to put first on PATH, or undefined when the `go` on PATH is used. */
  binDir: string | undefined;
  /** `go version` output. */
  version: string;
}

/** What {@link ensureGo} may be told, for tests. */
export interface EnsureGoOptions {
  /** Environment whose PATH is searched for `go`. */
  env?: NodeJS.ProcessEnv;
  /** Base URL of the module proxy; default {@link goProxyBase}. */
  proxy?: string;
  /** Expected SHA-256 of the zip; default from {@link GO_TOOLCHAIN_SHA256}. */
  sha256?: string;
  /** Toolchain version; default {@link GO_TOOLCHAIN_VERSION}. */
  version?: string;
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

/**
 * Returns the `go` on PATH if there is one; otherwise the pinned toolchain
 * in `cacheDir`, downloading and verifying it first when it is not there.
 */
export async function ensureGo(cacheDir: string, options: EnsureGoOptions = {}): Promise<GoLocation> {
  const env = options.env ?? process.env;
  const onPath = await runCommand("go", ["version"], { env, timeoutMs: 60_000 }).catch(() => undefined);
  if (onPath) return { binDir: undefined, version: onPath.stdout.trim() };

  const version = options.version ?? GO_TOOLCHAIN_VERSION;
  const target = goPlatform();
  const root = join(cacheDir, "go-toolchain", `${version}.${target}`);
  const binDir = join(root, "bin");
  // GOTOOLCHAIN=local: this Go must not go looking for yet another one.
  const goEnv = { ...env, GOTOOLCHAIN: "local" };
  if (!(await exists(join(binDir, "go")))) {
    const expected = options.sha256 ?? GO_TOOLCHAIN_SHA256[target];
    if (!expected) {
      throw new Error(
        `no \`go\` on PATH, and no pinned Go toolchain for ${target} (only ${Object.keys(GO_TOOLCHAIN_SHA256).join(", ")}); ` +
          "install Go from https://go.dev/dl/ or your package manager",
      );
    }
    const module = `v0.0.1-${version}.${target}`;
    const url = `${options.proxy ?? goProxyBase(env)}/golang.org/toolchain/@v/${module}.zip`;
    const response = await fetch(url);
    if (!response.ok) {
      throw new Error(`no \`go\` on PATH, and fetching ${url} failed: HTTP ${response.status}; install Go instead`);
    }
    const zip = Buffer.from(await response.arrayBuffer());
    const actual = createHash("sha256").update(zip).digest("hex");
    if (actual !== expected) {
      throw new Error(
        `the Go toolchain from ${url} has SHA-256 ${actual}, not the pinned ${expected}; refusing to use it`,
      );
    }
    await mkdir(join(cacheDir, "go-toolchain"), { recursive: true });
    const archive = `${root}.zip.partial`;
    const staging = `${root}.partial`;
    await rm(staging, { recursive: true, force: true });
    await writeFile(archive, zip);
    try {
      await extractZip(archive, staging, `golang.org/toolchain@${module}/`);
      await rename(staging, root);
    } finally {
      await rm(archive, { force: true });
      await rm(staging, { recursive: true, force: true });
    }
  }
  const installed = await runCommand(join(binDir, "go"), ["version"], { env: goEnv, timeoutMs: 60_000 });
  return { binDir, version: installed.stdout.trim() };
}
