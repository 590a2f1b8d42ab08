/**
 * IaCProviderRunnerService on Amazon ECS: RunJob starts a task (RunTask with
 * a content-addressed task definition, command/env overrides, network
 * placement, the idempotency key as client token and tags that identify the
 * job); JobStatus and BatchJobStatus read the shared batching poller; JobLogs
 * reads CloudWatch Logs; CancelJob calls StopTask.
 */
import { createHash, randomUUID } from "node:crypto";
import type { RunTaskCommandInput, Tag, Task } from "@aws-sdk/client-ecs";
import type { MessageInitShape } from "@bufbuild/protobuf";
import { type HandlerContext, jobTimeoutMs, resourceNameFor, type ServiceImpl } from "@flotilla/plugin-sdk";
import {
  FailedPreconditionError,
  type FlotillaError,
  type IaCProviderRunnerService,
  InvalidArgumentError,
  type JobHandle,
  type JobSpec,
  type JobStatusResultSchema,
  NotFoundError,
  ResourceExhaustedError,
  toJobError,
  UnavailableError,
} from "@flotilla/protocol";
import { resolveEcsTarget } from "./config-schema.js";
import { translateAwsError } from "./errors.js";
import { jobStatusFromTask } from "./job-status.js";
import { decodeLogCursor, readJobLog } from "./logs.js";
import { type AwsRuntime, timeoutTag } from "./runtime.js";
import type { TaskLookup } from "./status-poller.js";
import { isFinished } from "./status-poller.js";
import { parseTaskArn, type TaskRef, taskRefFromHandle } from "./task-arn.js";
import { jobContainerName, taskDefinitionFor } from "./task-definition.js";

/** The provider name put in the handles this plugin issues. */
export const awsProviderName = "aws";
/** The tag whose value tells apart this RunJob call from an earlier one with the same idempotency key. */
export const runCallTag = "flotilla:run-call";
const maxBatch = 1000;
/**
 * "A total of 8192 characters are allowed for overrides. This limit includes
 * the JSON formatting characters of the override structure." (ECS API
 * reference, RunTask `overrides`, as carried in @aws-sdk/client-ecs's model).
 */
export const maxOverridesLength = 8192;
/** "Up to 255 characters are allowed in this message." (ECS API reference, StopTask `reason`.) */
export const maxStopReasonLength = 255;

/**
 * RunTask's client token rules: "Up to 64 characters are allowed. The valid characters are characters in
 * the range of 33-126, inclusive." (ECS API reference, RunTask `clientToken`).
 */
const clientTokenRules = { maxLength: 64, allowed: /[!-~]/, prefix: "flotilla-" } as const;

/**
 * RunTask's clientToken for an idempotency key. A key may be longer than 64 characters or use characters
 * ECS does not allow, so the token is its readable part within the rules and a hash of the whole key: the
 * same key always gives the same token (a retried RunJob finds the first task), and keys that differ only
 * after their first 64 characters still give different tokens.
 */
export function clientTokenFor(idempotencyKey: string): string {
  return resourceNameFor(idempotencyKey, clientTokenRules);
}

/**
 * ECS tag rules (ECS API reference, RunTask `tags`, as carried in
 * @aws-sdk/client-ecs's model): at most 50 tags per resource; each key unique;
 * keys at most 128 and values at most 256 characters; "letters, numbers, and
 * spaces representable in UTF-8, and the following characters: + - = . _ : / @";
 * `aws:` in any case is reserved as a prefix of keys and of values.
 */
export const maxTagsPerResource = 50;
const tagKeyMaxLength = 128;
const tagValueMaxLength = 256;

/** Text made of the characters AWS allows in tags (no tab or newline: spaces only), at most `max` long. */
function tagText(text: string, max: number): string {
  return text.replace(/[^\p{L}\p{N} +\-=._:/@]/gu, "_").slice(0, max);
}

const reservedTagPrefix = /^aws:/i;

/** The tags that identify a job, plus its labels. */
export function jobTags(spec: JobSpec, runCall: string): Tag[] {
  const name = tagText(spec.name || "job", tagValueMaxLength);
  const tags: Tag[] = [
    { key: "flotilla:managed-by", value: "flotilla" },
    // A job name is free text; one that starts with the reserved prefix keeps its text without it being one.
    { key: "flotilla:job-name", value: reservedTagPrefix.test(name) ? `aws_${name.slice(4)}` : name },
    { key: runCallTag, value: runCall },
  ];
  if (spec.idempotencyKey)
    tags.push({
      key: "flotilla:idempotency-key-sha256",
      value: createHash("sha256").update(spec.idempotencyKey).digest("hex"),
    });
  const timeoutMs = jobTimeoutMs(spec.timeout);
  if (timeoutMs !== undefined) {
    tags.push({ key: timeoutTag, value: String(Math.ceil(timeoutMs / 1000)) });
  }
  const labels = Object.entries(spec.labels);
  if (tags.length + labels.length > maxTagsPerResource) {
    throw new InvalidArgumentError(
      `JobSpec.labels: ${labels.length} labels, but ECS allows ${maxTagsPerResource} tags per task and Flotilla uses ${tags.length} of them for this job; keep at most ${maxTagsPerResource - tags.length} labels`,
    );
  }
  const keyFrom = new Map(tags.map((t) => [t.key as string, `Flotilla's own tag ${t.key}`]));
  for (const [key, value] of labels) {
    const where = `JobSpec.labels[${JSON.stringify(key.slice(0, 70))}]`;
    if (key.length === 0 || key.length > 63 || value.length > 63) {
      throw new InvalidArgumentError(`${where}: keys must be 1-63 characters and values at most 63`);
    }
    if (reservedTagPrefix.test(key))
      throw new InvalidArgumentError(`${where}: keys starting with "aws:" are reserved by AWS; rename the label`);
    if (reservedTagPrefix.test(value))
      throw new InvalidArgumentError(
        `${where}: values starting with "aws:" are reserved by AWS too; change the value (e.g. drop the prefix)`,
      );
    const tagKey = tagText(key, tagKeyMaxLength);
    const clash = keyFrom.get(tagKey);
    if (clash) {
      throw new InvalidArgumentError(
        `${where}: becomes the ECS tag key ${JSON.stringify(tagKey)} (characters AWS does not allow in tags become "_"), which ${clash} already has; rename one of them`,
      );
    }
    keyFrom.set(tagKey, `label ${JSON.stringify(key)}`);
    tags.push({ key: tagKey, value: tagText(value, tagValueMaxLength) });
  }
  return tags;
}

function lookupError(lookup: TaskLookup, ref: TaskRef): FlotillaError | undefined {
  if (lookup.kind === "error") return lookup.error;
  if (lookup.kind === "missing") {
    return new NotFoundError(
      `job ${ref.taskArn} not found: ECS has no such task in cluster ${ref.cluster} (ECS forgets stopped tasks about an hour after they stop)`,
    );
  }
  return undefined;
}

/** Builds the runner service over a runtime getter (which fails until Configure ran). */
export function createEcsRunner(runtime: () => AwsRuntime): ServiceImpl<typeof IaCProviderRunnerService> {
  async function findTask(rt: AwsRuntime, handle: JobHandle | undefined): Promise<{ ref: TaskRef; task: Task }> {
    const ref = taskRefFromHandle(handle, rt.config.cluster);
    const [lookup] = (await rt.poller.lookup([ref])) as [TaskLookup];
    const error = lookupError(lookup, ref);
    if (error) throw error;
    return { ref, task: (lookup as { status: Task }).status };
  }

  return {
    async runJob(request, context) {
      const rt = runtime();
      const spec = request.spec;
      if (!spec) throw new InvalidArgumentError("RunJobRequest.spec: required");
      const target = resolveEcsTarget(spec.target, rt.config);
      const definition = taskDefinitionFor(spec, target, rt.config);
      const runCall = randomUUID();
      const tags = jobTags(spec, runCall);
      const environment = Object.entries(spec.env).map(([name, value]) => ({ name, value }));
      const overrides = {
        containerOverrides: [
          {
            name: jobContainerName,
            ...(spec.args.length > 0 ? { command: [...spec.args] } : {}),
            ...(environment.length > 0 ? { environment } : {}),
          },
        ],
      };
      const overridesLength = JSON.stringify(overrides).length;
      if (overridesLength > maxOverridesLength) {
        // Checked before registering a task definition, so a job ECS would refuse leaves nothing behind.
        throw new InvalidArgumentError(
          `JobSpec.args and JobSpec.env: ${overridesLength} characters as ECS RunTask overrides, more than the ${maxOverridesLength} ECS allows; pass large data another way (a file in the image, an S3 object, a secret_env reference) and keep args and env small`,
        );
      }
      const ecs = await rt.clients.ecs(target.region);
      const taskDefinitionArn = await rt.taskDefinitions.ensure(ecs, target.region, definition);
      const input: RunTaskCommandInput = {
        cluster: target.cluster,
        taskDefinition: taskDefinitionArn,
        count: 1,
        startedBy: "flotilla",
        ...(target.capacityProvider
          ? { capacityProviderStrategy: [{ capacityProvider: target.capacityProvider, weight: 1 }] }
          : { launchType: target.launchType as "FARGATE" | "EC2" | "EXTERNAL" }),
        ...(target.subnets.length > 0
          ? {
              networkConfiguration: {
                awsvpcConfiguration: {
                  subnets: target.subnets,
                  ...(target.securityGroups.length > 0 ? { securityGroups: target.securityGroups } : {}),
                  // Only Fargate tasks take a public IP (resolveEcsTarget refuses it otherwise); leave the field out elsewhere.
                  ...(target.fargate
                    ? { assignPublicIp: target.assignPublicIp ? ("ENABLED" as const) : ("DISABLED" as const) }
                    : {}),
                },
              },
            }
          : {}),
        overrides,
        tags,
        ...(spec.idempotencyKey ? { clientToken: clientTokenFor(spec.idempotencyKey) } : {}),
      };
      const { RunTaskCommand, DescribeTasksCommand } = await import("@aws-sdk/client-ecs");
      let taskArn: string;
      let deduplicated = false;
      try {
        // The caller going away aborts the HTTP call; a retry with the same
        // idempotency key then finds the task if ECS had started it.
        const out = await ecs.send(new RunTaskCommand(input), { abortSignal: context.signal });
        const task = out.tasks?.[0];
        if (!task?.taskArn) {
          const reasons =
            (out.failures ?? []).map((f) => `${f.reason ?? "unknown"}${f.detail ? ` (${f.detail})` : ""}`).join(", ") ||
            "no reason given";
          const message = `ECS RunTask placed no task: ${reasons}`;
          throw /RESOURCE|CAPACITY/i.test(reasons)
            ? new ResourceExhaustedError(message)
            : new UnavailableError(message);
        }
        taskArn = task.taskArn;
        // Same token and same request: ECS returned the first call's task.
        deduplicated =
          spec.idempotencyKey !== "" &&
          task.tags !== undefined &&
          !task.tags.some((t) => t.key === runCallTag && t.value === runCall);
        if (!deduplicated) rt.poller.prime(taskArn, task);
      } catch (err) {
        const resourceIds = (err as { name?: string; resourceIds?: string[] }).resourceIds;
        if ((err as { name?: string }).name !== "ConflictException" || !resourceIds?.length)
          throw translateAwsError(err, "ECS RunTask");
        // Same token, different request (our run-call tag differs on every
        // call): ECS names the task the first call started. Return it.
        deduplicated = true;
        const existing = resourceIds[0] as string;
        if (parseTaskArn(existing, target.cluster)) taskArn = existing;
        else {
          try {
            const out = await ecs.send(new DescribeTasksCommand({ cluster: target.cluster, tasks: [existing] }));
            taskArn = out.tasks?.[0]?.taskArn ?? "";
          } catch (describeErr) {
            throw translateAwsError(describeErr, "ECS DescribeTasks");
          }
          if (!taskArn)
            throw new NotFoundError(
              `ECS RunTask reported the idempotency key's earlier task ${existing}, but it no longer exists`,
            );
        }
      }
      const ref = parseTaskArn(taskArn, target.cluster);
      // Right after RunTask, DescribeTasks may not see the task yet (ECS is eventually consistent).
      if (ref) rt.poller.started(ref);
      return { handle: { provider: awsProviderName, jobId: taskArn }, deduplicated };
    },

    async jobStatus(request) {
      const rt = runtime();
      const { task } = await findTask(rt, request.handle);
      return { status: jobStatusFromTask(request.handle ?? {}, task) };
    },

    async batchJobStatus(request) {
      const rt = runtime();
      if (request.handles.length > maxBatch) {
        throw new InvalidArgumentError(
          `BatchJobStatusRequest.handles: at most ${maxBatch} per call, got ${request.handles.length}; split the request`,
        );
      }
      type Result = MessageInitShape<typeof JobStatusResultSchema>;
      const results: Result[] = new Array(request.handles.length);
      const refs: Array<{ index: number; ref: TaskRef }> = [];
      request.handles.forEach((handle, index) => {
        try {
          refs.push({ index, ref: taskRefFromHandle(handle, rt.config.cluster) });
        } catch (err) {
          results[index] = { handle, result: { case: "error", value: toJobError(err) } };
        }
      });
      const lookups = await rt.poller.lookup(refs.map((r) => r.ref));
      lookups.forEach((lookup, i) => {
        const { index, ref } = refs[i] as { index: number; ref: TaskRef };
        const handle = request.handles[index] as JobHandle;
        const error = lookupError(lookup, ref);
        results[index] = error
          ? { handle, result: { case: "error", value: toJobError(error) } }
          : {
              handle,
              result: { case: "status", value: jobStatusFromTask(handle, (lookup as { status: Task }).status) },
            };
      });
      return { results };
    },

    async *jobLogs(request, context: HandlerContext) {
      const rt = runtime();
      const cursor = decodeLogCursor(request.cursor);
      const { ref, task } = await findTask(rt, request.handle);
      const definition = await rt.taskDefinition(ref.region, task.taskDefinitionArn ?? "");
      const container =
        definition.containerDefinitions?.find((c) => c.name === jobContainerName) ??
        definition.containerDefinitions?.[0];
      const options =
        container?.logConfiguration?.logDriver === "awslogs" ? container.logConfiguration.options : undefined;
      if (!options?.["awslogs-group"] || !options["awslogs-stream-prefix"]) {
        throw new FailedPreconditionError(
          `job ${ref.taskArn}: its container does not log to CloudWatch Logs with a stream prefix (awslogs), so there is no log to read`,
        );
      }
      const logRegion = options["awslogs-region"] ?? ref.region;
      const lines = readJobLog({
        logs: await rt.clients.logs(logRegion),
        budget: rt.logBudget(logRegion),
        group: options["awslogs-group"],
        stream: `${options["awslogs-stream-prefix"]}/${container?.name ?? jobContainerName}/${ref.taskId}`,
        cursor,
        follow: request.follow,
        pollIntervalMs: rt.config.logPollIntervalMs,
        drainGraceMs: rt.config.logDrainGraceMs,
        signal: context.signal,
        isFinished: async () => {
          const [lookup] = (await rt.poller.lookup([ref])) as [TaskLookup];
          return lookup.kind === "missing" || (lookup.kind === "found" && isFinished(lookup.status));
        },
      });
      for await (const page of lines) yield { lines: page };
    },

    async cancelJob(request) {
      const rt = runtime();
      const ref = taskRefFromHandle(request.handle, rt.config.cluster);
      const { StopTaskCommand } = await import("@aws-sdk/client-ecs");
      try {
        const ecs = await rt.clients.ecs(ref.region);
        const out = await ecs.send(
          new StopTaskCommand({
            cluster: ref.cluster,
            task: ref.taskArn,
            reason: (request.reason || "cancelled through Flotilla").slice(0, maxStopReasonLength),
          }),
        );
        if (!out.task) throw new UnavailableError(`ECS StopTask returned no task for ${ref.taskArn}`);
        if (out.task.taskArn) rt.poller.prime(out.task.taskArn, out.task);
        return { status: jobStatusFromTask(request.handle ?? {}, out.task) };
      } catch (err) {
        throw translateAwsError(err, "ECS StopTask");
      }
    },
  };
}
