/**
 * A job handle's identity: the full name of the Cloud Run execution a RunJob
 * started, `projects/P/locations/L/jobs/J/executions/E`, which says where to
 * look (project, region) and what to read without any other state, so any
 * plugin process can answer for any handle.
 */
import { InvalidArgumentError, type JobHandle, NotFoundError } from "@flotilla/protocol";

/** The parts of an execution name. */
export interface ExecutionRef {
  /** The full execution name (the handle's job id). */
  readonly name: string;
  readonly project: string;
  readonly region: string;
  /** The job id (last segment of the job name). */
  readonly jobId: string;
  /** The job's full name. */
  readonly jobName: string;
  /** The execution id (last segment). */
  readonly executionId: string;
}

const executionNamePattern = /^projects\/([^/]+)\/locations\/([^/]+)\/jobs\/([^/]+)\/executions\/([^/]+)$/;

/** Parses an execution name; undefined when it is not one. */
export function parseExecutionName(name: string): ExecutionRef | undefined {
  const match = executionNamePattern.exec(name);
  if (!match) return undefined;
  const [, project, region, jobId, executionId] = match as unknown as [string, string, string, string, string];
  return {
    name,
    project,
    region,
    jobId,
    executionId,
    jobName: `projects/${project}/locations/${region}/jobs/${jobId}`,
  };
}

/**
 * The execution a handle names. An empty job id is InvalidArgument; any other
 * that is not an execution name cannot be a job this plugin started, so it is
 * NotFound (a host then knows the job is gone, as for any unknown job).
 */
export function executionRefFromHandle(handle: JobHandle | undefined): ExecutionRef {
  const jobId = handle?.jobId ?? "";
  if (jobId === "") throw new InvalidArgumentError("JobHandle.job_id: required; pass the handle RunJob returned");
  const ref = parseExecutionName(jobId);
  if (!ref)
    throw new NotFoundError(
      `job ${JSON.stringify(jobId.slice(0, 200))} not found: it is not a Cloud Run execution name (projects/P/locations/L/jobs/J/executions/E), so the gcp plugin did not start it`,
    );
  return ref;
}
