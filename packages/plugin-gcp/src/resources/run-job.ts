/**
 * The "run.job" resource type: a Cloud Run job definition
 * (`projects/P/locations/L/jobs/J`) that stays, for work run again and again
 * (by a scheduler, by `gcloud run jobs execute`, by another system) — unlike
 * the one-off jobs RunJob creates and deletes. Named by ResourceRef.name in the
 * provider's project and region unless its config says otherwise.
 *
 * Config (JSON, checked against {@link runJobConfigSchema} before any call):
 * the container (as run.service), task count, parallelism, retries, task
 * timeout, service account, VPC egress and labels. Health and troubleshooting
 * read the job's conditions and its latest execution; a job has no replicas,
 * so ScaleResource is refused. Updates are whole-job replacements (UpdateJob
 * has no update mask) carrying the job's etag; the fields the config does not
 * cover (annotations, launch stage, Binary Authorization) are sent back as read.
 * The job is labelled `managed-by=flotilla-resource`, which the sweep of
 * finished one-off jobs never deletes.
 */
import {
  checkAgainstSchema,
  type DiagnosticInit,
  diffConfig,
  formatProblems,
  jsonBytes,
  type ResourceStateInit,
  type ResourceType,
  type SchemaNode,
} from "@flotilla/plugin-sdk";
import { DiagnosticSeverity, InvalidArgumentError, NotFoundError, type ResourceRef } from "@flotilla/protocol";
import type { protos } from "@google-cloud/run";
import { maxTaskRetries, maxTaskTimeoutSeconds } from "../config-schema.js";
import { translateGcpError } from "../errors.js";
import { vpcAccessOf } from "../job-spec.js";
import type { GcpRuntime } from "../runtime.js";
import {
  type ContainerConfig,
  conditionDiagnostics,
  configComparison,
  containerConfigOf,
  containerOf,
  containerProperties,
  labelsOf,
  locationOf,
  type PlacementConfig,
  placementProperties,
  type ResourceLocation,
  replaceOn,
  resourceLocator,
  sensitiveKeys,
  statusOf,
  userLabels,
  vpcOf,
} from "./cloud-run-resource.js";

type Job = protos.google.cloud.run.v2.IJob;

const what = "run.job config";

/** "Maximum number of tasks in a single job — 10,000" (Cloud Run quotas page). */
const maxTasks = 10_000;
/** Job ids are RFC 1035 labels, at most 63 characters (as the fake and the runner apply them). */
const jobIdPattern = /^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$/;

/** JSON Schema of a run.job config. */
export const runJobConfigSchema = {
  type: "object",
  additionalProperties: false,
  required: ["image"],
  properties: {
    ...containerProperties,
    taskCount: {
      type: "integer",
      minimum: 1,
      maximum: maxTasks,
      description: "tasks each execution runs; default 1",
    },
    parallelism: {
      type: "integer",
      minimum: 0,
      maximum: maxTasks,
      description: "tasks run at once; 0 or unset runs as many as Cloud Run can",
    },
    maxRetries: {
      type: "integer",
      minimum: 0,
      maximum: maxTaskRetries,
      description: "retries of a failed task, 0-10; default 0 (sent explicitly: Cloud Run's own default is 3)",
    },
    timeoutSeconds: {
      type: "integer",
      minimum: 1,
      maximum: maxTaskTimeoutSeconds,
      description: "task timeout, at most 86400; Cloud Run's default 600",
    },
    ...placementProperties,
  },
} as const satisfies SchemaNode;

/** A run.job config as written. */
export interface RunJobConfig extends ContainerConfig, PlacementConfig {
  taskCount?: number;
  parallelism?: number;
  maxRetries?: number;
  timeoutSeconds?: number;
}

/** Checks a config; `partial` for a diff, where every key is optional. */
export function parseRunJobConfig(config: Record<string, unknown>, partial = false): RunJobConfig {
  const schema = partial ? { ...runJobConfigSchema, required: [] } : runJobConfigSchema;
  const problems = checkAgainstSchema(config, schema as unknown as SchemaNode);
  if (problems.length > 0) throw new InvalidArgumentError(`${what} is invalid: ${formatProblems(problems)}`);
  return config as unknown as RunJobConfig;
}

/** The run.job resource type over a runtime getter. */
export function runJobType(runtime: () => GcpRuntime): ResourceType {
  const jobs = () => runtime().clients.jobs();
  const { locate, existingName } = resourceLocator(runtime, {
    collection: "jobs",
    idPattern: jobIdPattern,
    idRule:
      "a Cloud Run job name is a lowercase letter, then lowercase letters, digits or hyphens, not ending in a hyphen, at most 63 characters",
  });

  /** The Job to write for a config. */
  function jobBody(config: RunJobConfig, where: ResourceLocation): Job {
    return {
      labels: labelsOf(config, what),
      template: {
        taskCount: config.taskCount ?? 1,
        ...(config.parallelism ? { parallelism: config.parallelism } : {}),
        template: {
          containers: [containerOf(config, what)],
          // In a oneof: 0 is sent, and means no retry (task_template.proto: "Defaults to 3" when unset).
          maxRetries: config.maxRetries ?? 0,
          ...(config.timeoutSeconds ? { timeout: { seconds: config.timeoutSeconds } } : {}),
          ...(config.serviceAccount ? { serviceAccount: config.serviceAccount } : {}),
          ...(config.vpcConnector ? { vpcAccess: vpcAccessOf(config.vpcConnector, where) } : {}),
        },
      },
    };
  }

  /** The job as a config, in the form a config is written. */
  function actualConfig(job: Job): RunJobConfig {
    const execution = job.template ?? {};
    const task = execution.template ?? {};
    const timeout = Number(String(task.timeout?.seconds ?? 0));
    const vpc = vpcOf(task.vpcAccess);
    return {
      ...containerConfigOf(task.containers?.[0] ?? {}),
      taskCount: execution.taskCount || 1,
      ...(execution.parallelism ? { parallelism: execution.parallelism } : {}),
      maxRetries: task.maxRetries ?? 0,
      ...(timeout > 0 ? { timeoutSeconds: timeout } : {}),
      ...(task.serviceAccount ? { serviceAccount: task.serviceAccount } : {}),
      ...(vpc ? { vpcConnector: vpc } : {}),
      labels: userLabels(job.labels),
      ...locationOf(job.name),
    };
  }

  function state(ref: ResourceRef, job: Job): ResourceStateInit {
    return {
      ref: { type: ref.type, name: ref.name, providerId: job.name ?? "" },
      configJson: jsonBytes(actualConfig(job)),
      outputsJson: jsonBytes({
        executionCount: job.executionCount ?? 0,
        latestExecution: job.latestCreatedExecution?.name ?? "",
        latestExecutionStatus: String(job.latestCreatedExecution?.completionStatus ?? ""),
        generation: Number(String(job.generation ?? 0)),
        observedGeneration: Number(String(job.observedGeneration ?? 0)),
        reconciling: job.reconciling ?? false,
      }),
      status: statusOf(job.reconciling, job.terminalCondition),
    };
  }

  async function get(name: string): Promise<Job> {
    try {
      const [job] = await (await jobs()).getJob({ name });
      return job;
    } catch (err) {
      const error = translateGcpError(err, "Cloud Run GetJob");
      if (error instanceof NotFoundError) throw new NotFoundError(`run.job ${name} not found`, { cause: err });
      throw error;
    }
  }

  const shortName = (name: string | null | undefined) => name?.split("/").at(-1) ?? "";

  const comparison = configComparison({ what, parse: parseRunJobConfig, locate, existingName, get, actualConfig });

  return {
    type: "run.job",
    sensitiveKeys,

    async create(ref, raw) {
      const config = parseRunJobConfig(raw);
      const where = locate(ref, config);
      try {
        // No execution token: the definition is created without running it.
        await (await jobs()).createJob({
          parent: `projects/${where.project}/locations/${where.region}`,
          jobId: ref.name,
          job: jobBody(config, where),
        });
      } catch (err) {
        throw translateGcpError(err, "Cloud Run CreateJob");
      }
      return state(ref, await get(where.name));
    },

    async read(ref) {
      return state(ref, await get(locate(ref).name));
    },

    async update(ref, raw) {
      const config = parseRunJobConfig(raw);
      const where = locate(ref, config);
      const current = await get(existingName(ref, config));
      const blocked = diffConfig({ ...actualConfig(current) }, { ...config }, { replaceOn })
        .filter((change) => change.requiresReplacement)
        .map((change) => change.path);
      if (blocked.length > 0)
        throw new InvalidArgumentError(
          `run.job ${JSON.stringify(ref.name)}: ${blocked.join(", ")} cannot change in place; delete the job and create it again`,
        );
      const { annotations, launchStage, binaryAuthorization } = current;
      try {
        await (await jobs()).updateJob({
          job: {
            annotations,
            launchStage,
            binaryAuthorization,
            ...jobBody(config, where),
            name: current.name,
            etag: current.etag ?? "",
          },
        });
      } catch (err) {
        throw translateGcpError(err, "Cloud Run UpdateJob");
      }
      return state(ref, await get(current.name ?? ""));
    },

    async delete(ref) {
      try {
        await (await jobs()).deleteJob({ name: locate(ref).name });
      } catch (err) {
        const error = translateGcpError(err, "Cloud Run DeleteJob");
        // Deleting a missing resource succeeds (resource.proto); a running execution is the caller's to cancel.
        if (!(error instanceof NotFoundError)) throw error;
      }
    },

    ...comparison,

    async health(ref) {
      const job = await get(locate(ref).name);
      const ready = job.terminalCondition ?? {};
      const latest = job.latestCreatedExecution;
      const executions = latest
        ? `; ${job.executionCount ?? 0} execution(s), the latest ${shortName(latest.name)} ${String(
            latest.completionStatus ?? "",
          )
            .replace(/^EXECUTION_/, "")
            .toLowerCase()}`
        : "; never run";
      if (job.reconciling) return { healthy: false, message: `reconciling${executions}` };
      if (ready.state !== "CONDITION_SUCCEEDED")
        return {
          healthy: false,
          message: `not ready (${String(ready.state ?? "no Ready condition")}${ready.reason ? `, ${ready.reason}` : ""}): ${ready.message ?? ""}${executions}`,
        };
      // The definition is what this resource is: a failed execution is a run's outcome, reported, not unhealth.
      return { healthy: true, message: `ready${executions}` };
    },

    async scale(ref) {
      throw new InvalidArgumentError(
        `ScaleResource: run.job ${JSON.stringify(ref.name)} has no replicas: each execution runs taskCount tasks; set taskCount (and parallelism) with UpdateResource`,
      );
    },

    async troubleshoot(ref) {
      const job = await get(locate(ref).name);
      const diagnostics = conditionDiagnostics(job.terminalCondition, job.conditions);
      const latest = job.latestCreatedExecution;
      if (latest?.name) {
        try {
          const [execution] = await (await runtime().clients.executions()).getExecution({ name: latest.name });
          const failed = conditionDiagnostics(
            null,
            (execution.conditions ?? []).filter((c) => String(c.state) === "CONDITION_FAILED"),
          );
          for (const diagnostic of failed)
            diagnostics.push({
              ...diagnostic,
              summary: `execution ${shortName(latest.name)}: ${diagnostic.summary}`,
            } satisfies DiagnosticInit);
          if (failed.length === 0)
            diagnostics.push({
              severity: DiagnosticSeverity.INFO,
              summary: `execution ${shortName(latest.name)}: ${String(latest.completionStatus ?? "")
                .replace(/^EXECUTION_/, "")
                .toLowerCase()}`,
              detail: `${execution.succeededCount ?? 0} succeeded, ${execution.failedCount ?? 0} failed, ${execution.runningCount ?? 0} running of ${execution.taskCount ?? 0} task(s)`,
            });
        } catch (err) {
          const error = translateGcpError(err, "Cloud Run GetExecution");
          if (!(error instanceof NotFoundError)) throw error;
        }
      }
      if (diagnostics.length === 0)
        diagnostics.push({ severity: DiagnosticSeverity.INFO, summary: "Ready; never run", detail: "" });
      return diagnostics;
    },
  };
}
