/**
 * The job handle as the CLI prints and accepts it: `PROVIDER:JOB_ID`, e.g.
 * `local:3f2a...`. The provider comes first so `flotilla jobs` knows which
 * plugin to ask; the job id is the plugin's own, opaque, and may contain
 * colons (an ECS task ARN does), so only the first colon splits.
 */

/** A parsed handle string. */
export interface CliJobHandle {
  /** Provider (plugin) name, e.g. "local". */
  provider: string;
  /** The plugin's job id. */
  jobId: string;
}

/** Renders a handle as `provider:jobId`. */
export function formatJobHandle(handle: CliJobHandle): string {
  return `${handle.provider}:${handle.jobId}`;
}

/** Parses `provider:jobId`; the error shows the expected form and where handles come from. */
export function parseJobHandle(text: string): CliJobHandle {
  const colon = text.indexOf(":");
  const provider = colon < 0 ? "" : text.slice(0, colon);
  const jobId = colon < 0 ? "" : text.slice(colon + 1);
  if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(provider) || jobId === "") {
    throw new RangeError(
      `job handle ${JSON.stringify(text)} is not PROVIDER:JOB_ID (e.g. "local:3f2a9c..."); \`flotilla run\` prints the handle of each job it starts`,
    );
  }
  return { provider, jobId };
}
