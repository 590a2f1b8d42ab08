/**
 * `@flotilla/exec/docker`: the `local-docker` execution environment — a
 * container per run through the Docker Engine API (Docker, or Podman's
 * compatible API service). Loads dockerode (an optional peer dependency:
 * install it beside @flotilla/exec). The exec_env factory imports this entry
 * point only when a local-docker environment is configured.
 */
export { DockerRunner, type DockerRunnerOptions } from "./docker-runner.js";
