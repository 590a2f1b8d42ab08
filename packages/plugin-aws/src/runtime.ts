/**
 * Everything a configured AWS plugin holds: the validated config, the SDK
 * clients, the shared status poller and the task definition registry. Built
 * by Configure; replaced (and the old one disposed) by a later Configure.
 */
import type { Task, TaskDefinition } from "@aws-sdk/client-ecs";
import { RequestBudget } from "@flotilla/plugin-sdk";
import type { AwsClients } from "./clients.js";
import type { AwsProviderConfig } from "./config-schema.js";
import { translateAwsError } from "./errors.js";
import { timeoutReasonPrefix } from "./job-status.js";
import { logRequestBurst } from "./logs.js";
import { StatusPoller } from "./status-poller.js";
import { parseTaskArn } from "./task-arn.js";
import { TaskDefinitionRegistry } from "./task-definition.js";

/** The tag holding a job's timeout in seconds, so any plugin process can enforce it. */
export const timeoutTag = "flotilla:timeout-seconds";

/** A configured plugin's state. */
export class AwsRuntime {
  /** The shared, batching DescribeTasks poller. */
  readonly poller: StatusPoller;
  /** Registered task definitions. */
  readonly taskDefinitions = new TaskDefinitionRegistry();
  private readonly describedDefinitions = new Map<string, Promise<TaskDefinition>>();
  private readonly logBudgets = new Map<string, RequestBudget>();
  private readonly timeoutsStopped = new Set<string>();

  constructor(
    readonly config: AwsProviderConfig,
    readonly clients: AwsClients,
    private readonly warn: (message: string) => void = () => {},
  ) {
    this.poller = new StatusPoller({
      intervalMs: config.statusPollIntervalMs,
      describe: async (region, cluster, tasks) => {
        const { DescribeTasksCommand } = await import("@aws-sdk/client-ecs");
        const ecs = await clients.ecs(region);
        const out = await ecs.send(new DescribeTasksCommand({ cluster, tasks, include: ["TAGS"] }));
        return { tasks: out.tasks ?? [] };
      },
      onUnfinishedTask: (task) => this.enforceTimeout(task),
    });
  }

  /**
   * The GetLogEvents budget of a region, shared by every followed log there:
   * CloudWatch's quota counts calls per account and Region, not per stream.
   */
  logBudget(region: string): RequestBudget {
    let budget = this.logBudgets.get(region);
    if (!budget) {
      const ratePerSecond = this.config.logRequestsPerSecond;
      budget = new RequestBudget({ ratePerSecond, burst: logRequestBurst(ratePerSecond) });
      this.logBudgets.set(region, budget);
    }
    return budget;
  }

  /** The task definition of a task (cached: definitions are immutable). */
  taskDefinition(region: string, arn: string): Promise<TaskDefinition> {
    let found = this.describedDefinitions.get(arn);
    if (!found) {
      found = (async () => {
        const { DescribeTaskDefinitionCommand } = await import("@aws-sdk/client-ecs");
        try {
          const out = await (await this.clients.ecs(region)).send(
            new DescribeTaskDefinitionCommand({ taskDefinition: arn }),
          );
          if (!out.taskDefinition) throw new Error("DescribeTaskDefinition returned nothing");
          return out.taskDefinition;
        } catch (err) {
          throw translateAwsError(err, "ECS DescribeTaskDefinition");
        }
      })();
      this.describedDefinitions.set(arn, found);
      found.catch(() => this.describedDefinitions.delete(arn));
    }
    return found;
  }

  /** Stops polling and closes the clients. */
  async dispose(): Promise<void> {
    this.poller.stop();
    await this.clients.destroy();
  }

  /** Stops a task that has run past its JobSpec.timeout (read from its tag), once. */
  private enforceTimeout(task: Task): void {
    const seconds = Number(task.tags?.find((t) => t.key === timeoutTag)?.value ?? Number.NaN);
    const arn = task.taskArn ?? "";
    if (
      !Number.isFinite(seconds) ||
      !task.createdAt ||
      task.desiredStatus === "STOPPED" ||
      this.timeoutsStopped.has(arn)
    )
      return;
    if (Date.now() - task.createdAt.getTime() <= seconds * 1000) return;
    const ref = parseTaskArn(arn, this.config.cluster);
    if (!ref) return;
    this.timeoutsStopped.add(arn);
    void (async () => {
      const { StopTaskCommand } = await import("@aws-sdk/client-ecs");
      try {
        await (await this.clients.ecs(ref.region)).send(
          new StopTaskCommand({
            cluster: ref.cluster,
            task: arn,
            reason: `${timeoutReasonPrefix} of ${seconds}s exceeded`,
          }),
        );
        this.poller.invalidate(arn);
      } catch (err) {
        this.timeoutsStopped.delete(arn);
        this.warn(`could not stop task ${arn} after its timeout: ${translateAwsError(err, "ECS StopTask").message}`);
      }
    })();
  }
}
