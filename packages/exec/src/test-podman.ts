/**
 * Test helper: starts Podman's Docker-compatible API service for the
 * local-docker runner's tests through scripts/ensure-podman.sh (which
 * installs Podman with apt when missing and imports a busybox image from a
 * local tarball: no registry is reachable here), and stops it afterwards.
 */
import { execFile } from "node:child_process";
import { rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/** The image ensure-podman.sh imports: busybox with sh, echo, sleep, true, false. */
export const TEST_IMAGE = "flotilla-test/busybox:latest";

/** A running Podman API service. */
export interface PodmanService {
  readonly socketPath: string;
  /** Stops the service and removes its state directory. */
  stop(): Promise<void>;
}

const script = resolve(dirname(fileURLToPath(import.meta.url)), "../../../scripts/ensure-podman.sh");

/** Starts a Podman API service on a Unix socket under a short /tmp path (socket paths are limited to ~108 bytes). */
export async function startPodmanService(): Promise<PodmanService> {
  const stateDir = `/tmp/flt-podman-${process.pid}`;
  const { stdout } = await promisify(execFile)("bash", [script, stateDir], {
    timeout: 550_000,
    maxBuffer: 16 * 1024 * 1024,
  });
  const [pid, socketPath] = (stdout.trim().split("\n").at(-1) ?? "").split(" ");
  if (!pid || !socketPath)
    throw new Error(`ensure-podman.sh printed no "PID SOCKET CONF" line; its output was: ${stdout.slice(-500)}`);
  return {
    socketPath,
    async stop() {
      try {
        process.kill(Number(pid), "SIGTERM");
      } catch {
        // Already gone.
      }
      for (let i = 0; i < 50; i++) {
        try {
          process.kill(Number(pid), 0);
        } catch {
          break;
        }
        await new Promise((done) => setTimeout(done, 100));
      }
      rmSync(stateDir, { recursive: true, force: true });
    },
  };
}
