/**
 * The ECS part of the AWS fake: clusters, task definitions, tasks with a
 * scripted life cycle (PROVISIONING → PENDING → RUNNING → STOPPED), RunTask's
 * client-token semantics, and services with deployments and events.
 *
 * Task state is computed from the fake clock on every request, so a test can
 * jump time forward and a plugin in another process simply sees tasks
 * progress. Log lines a script declares are written to the fake CloudWatch
 * Logs stream the task's awslogs configuration names, as ECS's log driver
 * would.
 */
import { createHash } from "node:crypto";
import { AwsApiError } from "./api-error.js";
import type { FakeClock } from "./clock.js";
import type { FakeCloudWatchLogs } from "./logs.js";

/** How one task behaves, set by the test through {@link FakeEcs.setTaskScript}. */
export interface TaskScript {
  /** Time spent in PROVISIONING, ms. Default 10. */
  provisioningMs: number;
  /** Time spent in PENDING, ms. Default 10. */
  pendingMs: number;
  /** Time spent RUNNING before the container exits on its own, ms; Infinity runs until StopTask. Default 50. */
  runMs: number;
  /** The container's exit code; null when the container never starts (e.g. the image cannot be pulled). Default 0. */
  exitCode: number | null;
  /** The task's stop code once stopped on its own. Default "EssentialContainerExited", or "TaskFailedToStart" when exitCode is null. */
  stopCode?: string;
  /** The task's stopped reason once stopped on its own. Default "Essential container in task exited". */
  stoppedReason?: string;
  /** The container's reason, e.g. "OutOfMemoryError: Container killed due to memory usage". */
  containerReason?: string;
  /** Lines the container writes, each `afterMs` after it starts (a plain string means 0). */
  logLines: Array<string | { afterMs: number; text: string }>;
  /**
   * How long the container takes to exit after StopTask's SIGTERM, ms; null when it ignores SIGTERM and is
   * killed when the stop timeout runs out. Default 0.
   */
  exitAfterSigtermMs: number | null;
  /** The exit code of a container that exits on SIGTERM. Default 143 (128 + SIGTERM, as `docker stop` reports). */
  sigtermExitCode: number;
  /** Time spent in DEPROVISIONING after the container stopped, ms. Default 0. */
  deprovisioningMs: number;
}

/** What a script function sees about the task being started. */
export interface TaskScriptContext {
  /** The task definition's family. */
  family: string;
  /** The container's entry point followed by its command after overrides. */
  command: string[];
  /** The container environment after overrides, name to value. */
  environment: Record<string, string>;
  /** The task's tags, key to value. */
  tags: Record<string, string>;
}

const defaultScript: TaskScript = {
  provisioningMs: 10,
  pendingMs: 10,
  runMs: 50,
  exitCode: 0,
  logLines: [],
  exitAfterSigtermMs: 0,
  sigtermExitCode: 143,
  deprovisioningMs: 0,
};

/**
 * How long StopTask waits for a container to exit after SIGTERM before it sends SIGKILL: the container
 * definition's `stopTimeout` in seconds, else 30 ("This results in a SIGTERM value and a default 30-second
 * timeout, after which the SIGKILL value is sent and the containers are forcibly stopped", ECS API reference,
 * StopTask; "the default value of 30 seconds is used", ContainerDefinition `stopTimeout`).
 */
function stopTimeoutMs(taskDefinition: TaskDefinition): number {
  const seconds = (taskDefinition.containerDefinitions[0] as Json | undefined)?.stopTimeout;
  return (typeof seconds === "number" ? seconds : 30) * 1000;
}

/** The exit code `docker stop` reports for a container killed by SIGKILL (128 + 9). */
const sigkillExitCode = 137;

type Json = Record<string, unknown>;
type Tag = { key: string; value: string };

interface Cluster {
  clusterName: string;
  clusterArn: string;
  status: "ACTIVE" | "INACTIVE";
}

interface TaskDefinition extends Json {
  taskDefinitionArn: string;
  family: string;
  revision: number;
  status: "ACTIVE" | "INACTIVE";
  containerDefinitions: Json[];
}

interface Task {
  taskArn: string;
  taskId: string;
  cluster: Cluster;
  taskDefinition: TaskDefinition;
  createdAt: number;
  script: TaskScript;
  startedBy?: string;
  group: string;
  launchType?: string;
  capacityProviderName?: string;
  overrides: Json;
  tags: Tag[];
  containerName: string;
  image: string;
  command: string[];
  log?: { group: string; stream: string; createGroup: boolean };
  userStop?: { at: number; reason: string };
  linesWritten: number;
  streamCreated: boolean;
}

interface ServiceFailure {
  stopCode: string;
  stoppedReason: string;
  containerReason?: string;
  exitCode?: number;
}

interface Service {
  serviceArn: string;
  serviceName: string;
  cluster: Cluster;
  status: "ACTIVE" | "DRAINING" | "INACTIVE";
  desiredCount: number;
  taskDefinition: string;
  launchType?: string;
  capacityProviderStrategy?: Json[];
  networkConfiguration?: Json;
  createdAt: number;
  deploymentId: string;
  deploymentCreatedAt: number;
  events: Array<{ id: string; createdAt: number; message: string }>;
  failure?: ServiceFailure;
  tags: Tag[];
}

const int32Max = 2_147_483_647;
/** RunTask's overrides limit (see FakeEcs.checkOverrides). */
const overridesMaxLength = 8192;
/** Tag rules (see FakeEcs.checkTags). */
const maxTagsPerResource = 50;
const tagPattern = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;
/** "Up to 255 characters are allowed in this message." (ECS API reference, StopTask `reason`.) */
const stopReasonMaxLength = 255;

/**
 * Fargate's task sizes: CPU units to the memory sizes (MiB) allowed with
 * them. Source: ECS API reference, RegisterTaskDefinition `memory` (carried in
 * @aws-sdk/client-ecs's model): "512 (0.5 GB), 1024 (1 GB), 2048 (2 GB) -
 * Available cpu values: 256 (.25 vCPU)" ... "Between 32GB and 120 GB in 8 GB
 * increments - Available cpu values: 16384 (16 vCPU)".
 */
function fargateMemoryAllowed(cpu: number, memory: number): boolean {
  const range = (from: number, to: number, by: number) => memory >= from && memory <= to && (memory - from) % by === 0;
  switch (cpu) {
    case 256:
      return [512, 1024, 2048].includes(memory);
    case 512:
      return range(1024, 4096, 1024);
    case 1024:
      return range(2048, 8192, 1024);
    case 2048:
      return range(4096, 16384, 1024);
    case 4096:
      return range(8192, 30720, 1024);
    case 8192:
      return range(16384, 61440, 4096);
    case 16384:
      return range(32768, 122880, 8192);
    default:
      return false;
  }
}
/**
 * How long ECS remembers a RunTask client token, and where: "Cluster:
 * requests with the same token in the same cluster are idempotent ... RunTask
 * requests to other clusters are separate requests" and "The RunTask client
 * token has a time to live (TTL) of 24 hours" (ECS API reference, "Ensuring
 * idempotency", Idempotency for RunTask). The page bounds the TTL further by a
 * second value the fake does not simulate; the fake counts 24 hours from the
 * first call on its clock.
 */
const clientTokenTtlMs = 24 * 60 * 60 * 1000;
/** RunTask's clientToken limit (see FakeEcs.checkClientToken). */
const clientTokenMaxLength = 64;

/** The in-memory ECS service. */
export class FakeEcs {
  private readonly clusters = new Map<string, Cluster>();
  private readonly families = new Map<string, TaskDefinition[]>();
  private readonly tasks = new Map<string, Task>();
  private readonly services = new Map<string, Service>();
  private readonly placementFailures: Array<{ reason: string; detail?: string }> = [];
  /** RunTask client tokens, keyed by cluster ARN and token (see clientTokenTtlMs). */
  private readonly tokens = new Map<string, { fingerprint: string; taskArns: string[]; at: number }>();
  private scriptFor: (context: TaskScriptContext) => Partial<TaskScript> = () => ({});
  private sequence = 0;
  private describeLagMs = 0;
  private readonly deniedActions = new Set<string>();

  constructor(
    private readonly clock: FakeClock,
    private readonly logs: FakeCloudWatchLogs,
    private readonly account: string,
    private readonly defaultRegion: string,
  ) {}

  /**
   * Makes DescribeTasks answer a task as a MISSING failure until it is `ms`
   * old on the fake's clock: ECS's eventual consistency after RunTask ("the
   * result of an API command you run that affects your Amazon ECS resources
   * might not be immediately visible to all subsequent commands you run",
   * ECS API reference, RunTask). ECS publishes no bound on the delay, so the
   * test chooses it; default 0 (visible at once).
   */
  setDescribeTasksLag(ms: number): void {
    this.describeLagMs = ms;
  }

  /**
   * Makes the next RunTask calls place no task: each answers HTTP 200 with `tasks: []` and one entry in
   * `failures` ({ arn, reason, detail }), as ECS does when it cannot place a task ("API failure reasons",
   * ECS developer guide: e.g. `RESOURCE:MEMORY`, `AGENT`; and for Fargate "Capacity is unavailable at this
   * time. Please try again later or in a different availability zone", AWS re:Post knowledge center,
   * ecs-fargate-runtask-capacity). Nothing is started. ECS publishes nothing on whether it remembers the
   * client token of a call that placed no task; the fake does not, so a retry with the same token places a
   * task once capacity is back.
   */
  failPlacements(...failures: Array<{ reason: string; detail?: string }>): void {
    this.placementFailures.push(...failures);
  }

  /**
   * Makes the caller's IAM policy lack `action` ("iam:PassRole" or "ecs:TagResource"), which ECS checks on
   * the caller's behalf: passing a task or execution role needs iam:PassRole on it, in RegisterTaskDefinition
   * (terraform's aws_ecs_task_definition failing so, techservicesillinois/terraform-aws-ecs-service#4) and in
   * RunTask (LBHackney-IT/Data-Platform#1990, aws/serverless-application-model#2247); tags on RunTask or
   * CreateService need ecs:TagResource (ECS developer guide, "Grant permission to tag resources on creation").
   * The call fails with AccessDeniedException in IAM's words: "User: ARN is not authorized to perform: ACTION
   * on resource: ARN because no identity-based policy allows the ACTION action" (quoted in those reports).
   */
  denyAction(action: "iam:PassRole" | "ecs:TagResource"): void {
    this.deniedActions.add(action);
  }

  private authorize(action: string, resource: string): void {
    if (!this.deniedActions.has(action)) return;
    throw new AwsApiError(
      "AccessDeniedException",
      `User: arn:aws:iam::${this.account}:user/test is not authorized to perform: ${action} on resource: ${resource} because no identity-based policy allows the ${action} action`,
    );
  }

  /** iam:PassRole for each role a call hands to ECS. */
  private authorizePassRoles(...roles: unknown[]): void {
    for (const role of roles) if (typeof role === "string" && role !== "") this.authorize("iam:PassRole", role);
  }

  /** Decides how each new task behaves; the result is merged over the defaults. */
  setTaskScript(scriptFor: (context: TaskScriptContext) => Partial<TaskScript>): void {
    this.scriptFor = scriptFor;
  }

  /** Creates a cluster directly (test setup). */
  createCluster(clusterName: string, region = this.defaultRegion): void {
    this.clusters.set(clusterName, {
      clusterName,
      clusterArn: `arn:aws:ecs:${region}:${this.account}:cluster/${clusterName}`,
      status: "ACTIVE",
    });
  }

  /** How many revisions of task definitions were registered in total. */
  registeredTaskDefinitionCount(): number {
    return [...this.families.values()].reduce((n, revisions) => n + revisions.length, 0);
  }

  /** Every task ever started, as ARNs, oldest first. */
  taskArns(): string[] {
    return [...this.tasks.keys()];
  }

  /** The RunTask input a task was started with (overrides, tags, network), for assertions. */
  taskDetails(taskArn: string): {
    overrides: Json;
    tags: Tag[];
    taskDefinition: Json;
    launchType?: string;
    capacityProviderName?: string;
  } {
    const task = this.tasks.get(taskArn);
    if (!task) throw new Error(`FakeEcs.taskDetails: no task ${taskArn}`);
    return {
      overrides: task.overrides,
      tags: task.tags,
      taskDefinition: task.taskDefinition,
      ...(task.launchType ? { launchType: task.launchType } : {}),
      ...(task.capacityProviderName ? { capacityProviderName: task.capacityProviderName } : {}),
    };
  }

  /** The network configuration a task was started with. */
  taskNetwork(taskArn: string): Json | undefined {
    return (this.tasks.get(taskArn) as (Task & { network?: Json }) | undefined)?.network;
  }

  /**
   * Makes a service's tasks fail: its running count drops to 0, its
   * deployment stays IN_PROGRESS, stopped tasks with this reason appear, and
   * events say so — what a crash-looping service looks like.
   */
  failServiceTasks(serviceName: string, failure: ServiceFailure): void {
    const service = [...this.services.values()].find((s) => s.serviceName === serviceName && s.status === "ACTIVE");
    if (!service) throw new Error(`FakeEcs.failServiceTasks: no active service ${serviceName}`);
    service.failure = failure;
    const task = this.startServiceTask(service);
    task.userStop = undefined;
    task.script = {
      ...defaultScript,
      provisioningMs: 0,
      pendingMs: 0,
      runMs: 0,
      exitCode: failure.exitCode ?? null,
      stopCode: failure.stopCode,
      stoppedReason: failure.stoppedReason,
      ...(failure.containerReason ? { containerReason: failure.containerReason } : {}),
    };
    this.addEvent(service, `(service ${service.serviceName}) has started 1 tasks: (task ${task.taskId}).`);
    this.addEvent(
      service,
      `(service ${service.serviceName}) deployment ${service.deploymentId} failed: tasks failed to start.`,
    );
  }

  /** Writes due log lines; called before every request so state is current. */
  settle(): void {
    const now = this.clock.now();
    for (const task of this.tasks.values()) {
      if (!task.log) continue;
      const view = this.timeline(task, now);
      if (view.startedAt === undefined) continue;
      if (!task.streamCreated) {
        this.logs.ensureStream(task.log.group, task.log.stream);
        task.streamCreated = true;
      }
      const end = view.stoppedAt ?? now;
      const lines = task.script.logLines.map((l) => (typeof l === "string" ? { afterMs: 0, text: l } : l));
      while (task.linesWritten < lines.length) {
        const line = lines[task.linesWritten] as { afterMs: number; text: string };
        const at = view.startedAt + line.afterMs;
        if (at > end) break;
        this.logs.append(task.log.group, task.log.stream, line.text, at);
        task.linesWritten += 1;
      }
    }
  }

  /** Dispatches one JSON 1.1 operation; undefined when the operation is not an ECS one. */
  handle(operation: string, input: Json, region: string): Json | undefined {
    switch (operation) {
      case "CreateCluster":
        return this.opCreateCluster(input, region);
      case "DescribeClusters":
        return this.opDescribeClusters(input);
      case "RegisterTaskDefinition":
        return this.opRegisterTaskDefinition(input, region);
      case "DescribeTaskDefinition":
        return { taskDefinition: this.resolveTaskDefinition(String(input.taskDefinition ?? ""), "ClientException") };
      case "RunTask":
        return this.opRunTask(input);
      case "DescribeTasks":
        return this.opDescribeTasks(input);
      case "StopTask":
        return this.opStopTask(input);
      case "ListTasks":
        return this.opListTasks(input);
      case "CreateService":
        return this.opCreateService(input);
      case "DescribeServices":
        return this.opDescribeServices(input);
      case "UpdateService":
        return this.opUpdateService(input);
      case "DeleteService":
        return this.opDeleteService(input);
      case "TagResource":
        return this.opTagResource(input);
      case "UntagResource":
        return this.opUntagResource(input);
      default:
        return undefined;
    }
  }

  private nextId(): string {
    this.sequence += 1;
    return createHash("sha256").update(`task-${this.sequence}`).digest("hex").slice(0, 32);
  }

  private cluster(input: Json): Cluster {
    const ref = String(input.cluster ?? "default");
    const name = ref.startsWith("arn:") ? ref.slice(ref.lastIndexOf("/") + 1) : ref;
    const cluster = this.clusters.get(name);
    if (cluster?.status !== "ACTIVE") throw new AwsApiError("ClusterNotFoundException", "Cluster not found.");
    return cluster;
  }

  private opCreateCluster(input: Json, region: string): Json {
    const name = String(input.clusterName ?? "default");
    if (!this.clusters.has(name)) this.createCluster(name, region);
    return { cluster: this.clusterView(this.clusters.get(name) as Cluster) };
  }

  private clusterView(cluster: Cluster): Json {
    const tasks = [...this.tasks.values()].filter((t) => t.cluster === cluster);
    const now = this.clock.now();
    return {
      clusterArn: cluster.clusterArn,
      clusterName: cluster.clusterName,
      status: cluster.status,
      runningTasksCount: tasks.filter((t) => this.timeline(t, now).lastStatus === "RUNNING").length,
      pendingTasksCount: tasks.filter((t) => ["PROVISIONING", "PENDING"].includes(this.timeline(t, now).lastStatus))
        .length,
      activeServicesCount: [...this.services.values()].filter((s) => s.cluster === cluster && s.status === "ACTIVE")
        .length,
    };
  }

  private opDescribeClusters(input: Json): Json {
    const refs = (input.clusters as string[] | undefined) ?? ["default"];
    const clusters: Json[] = [];
    const failures: Json[] = [];
    for (const ref of refs) {
      const name = ref.startsWith("arn:") ? ref.slice(ref.lastIndexOf("/") + 1) : ref;
      const cluster = this.clusters.get(name);
      if (cluster) clusters.push(this.clusterView(cluster));
      else failures.push({ arn: ref, reason: "MISSING" });
    }
    return { clusters, failures };
  }

  private opRegisterTaskDefinition(input: Json, region: string): Json {
    const family = String(input.family ?? "");
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(family)) {
      throw new AwsApiError("ClientException", "Family contains invalid characters or is too long.");
    }
    this.authorizePassRoles(input.taskRoleArn, input.executionRoleArn);
    const containers = input.containerDefinitions as Json[] | undefined;
    if (!Array.isArray(containers) || containers.length === 0) {
      throw new AwsApiError("ClientException", "Container list cannot be empty.");
    }
    for (const c of containers) {
      if (typeof c.image !== "string" || c.image === "")
        throw new AwsApiError("ClientException", "Container.image should not be null or empty.");
      for (const s of (c.secrets as Json[] | undefined) ?? []) {
        if (!input.executionRoleArn) {
          throw new AwsApiError(
            "ClientException",
            "When you are specifying container secrets, you must also specify a value for 'executionRoleArn'.",
          );
        }
        if (typeof s.valueFrom !== "string" || s.valueFrom === "")
          throw new AwsApiError("ClientException", "Secret valueFrom is empty.");
      }
    }
    this.checkTaskSize(input);
    const fargate = ((input.requiresCompatibilities as string[] | undefined) ?? []).includes("FARGATE");
    const awslogs = containers.some((c) => (c.logConfiguration as Json | undefined)?.logDriver === "awslogs");
    if (fargate && awslogs && !input.executionRoleArn) {
      // The error ECS answers, quoted in virtual-kubelet/virtual-kubelet#193.
      throw new AwsApiError(
        "ClientException",
        "Fargate requires task definition to have execution role ARN to support log driver awslogs.",
      );
    }
    const revisions = this.families.get(family) ?? [];
    this.families.set(family, revisions);
    const revision = revisions.length + 1;
    const { tags: _tags, ...definition } = input;
    const taskDefinition: TaskDefinition = {
      ...definition,
      family,
      containerDefinitions: containers,
      revision,
      status: "ACTIVE",
      taskDefinitionArn: `arn:aws:ecs:${region}:${this.account}:task-definition/${family}:${revision}`,
      registeredAt: this.clock.now() / 1000,
    };
    revisions.push(taskDefinition);
    return { taskDefinition, tags: input.tags ?? [] };
  }

  /**
   * Task-level cpu and memory. FARGATE in requiresCompatibilities needs one of
   * Fargate's sizes (fargateMemoryAllowed); otherwise cpu, when given, is
   * "between 128 CPU units (0.125 vCPUs) and 196608 CPU units (192 vCPUs)"
   * (ECS API reference, RegisterTaskDefinition `cpu`). The error is the one
   * the developer guide's "Troubleshoot Amazon ECS task definition invalid
   * CPU or memory errors" page quotes: ClientException "Invalid 'cpu' setting
   * for task." Only integer strings are read (ECS also accepts "1 vCPU", "1 GB").
   */
  private checkTaskSize(input: Json): void {
    const fargate = ((input.requiresCompatibilities as string[] | undefined) ?? []).includes("FARGATE");
    const cpu = input.cpu === undefined ? undefined : Number(input.cpu);
    const memory = input.memory === undefined ? undefined : Number(input.memory);
    const invalid = () => new AwsApiError("ClientException", "Invalid 'cpu' setting for task.");
    if (fargate) {
      if (cpu === undefined || memory === undefined || !fargateMemoryAllowed(cpu, memory)) throw invalid();
      return;
    }
    if (cpu !== undefined && !(Number.isInteger(cpu) && cpu >= 128 && cpu <= 196_608)) throw invalid();
  }

  private resolveTaskDefinition(ref: string, missingType: string): TaskDefinition {
    const name = ref.startsWith("arn:") ? ref.slice(ref.lastIndexOf("/") + 1) : ref;
    const [family, revision] = name.split(":");
    const revisions = this.families.get(family ?? "") ?? [];
    const found =
      revision === undefined ? revisions.filter((r) => r.status === "ACTIVE").at(-1) : revisions[Number(revision) - 1];
    if (!found) {
      throw new AwsApiError(
        missingType,
        missingType === "ClientException" ? "Unable to describe task definition." : "TaskDefinition not found.",
      );
    }
    return found;
  }

  private opRunTask(input: Json): Json {
    this.checkClientToken(input.clientToken);
    const cluster = this.cluster(input);
    const taskDefinition = this.resolveTaskDefinition(String(input.taskDefinition ?? ""), "InvalidParameterException");
    if (input.launchType && input.capacityProviderStrategy) {
      throw new AwsApiError(
        "InvalidParameterException",
        "Specifying both a launch type and capacity provider strategy is not supported.",
      );
    }
    const network = input.networkConfiguration as { awsvpcConfiguration?: { subnets?: string[] } } | undefined;
    if (taskDefinition.networkMode === "awsvpc" && !network?.awsvpcConfiguration?.subnets?.length) {
      throw new AwsApiError(
        "InvalidParameterException",
        "Network Configuration must be provided when networkMode 'awsvpc' is specified.",
      );
    }
    // Fargate: the FARGATE launch type or the FARGATE / FARGATE_SPOT capacity providers. With neither
    // given, the fake's clusters have no default capacity provider strategy, so the task is EC2.
    const fargate =
      input.launchType === "FARGATE" ||
      (Array.isArray(input.capacityProviderStrategy) &&
        (input.capacityProviderStrategy as Json[]).every((s) => String(s.capacityProvider).startsWith("FARGATE")));
    if ((network?.awsvpcConfiguration as Json | undefined)?.assignPublicIp === "ENABLED" && !fargate) {
      // The error ECS answers, quoted in aws/aws-cdk#13348 and hashicorp/waypoint#643.
      throw new AwsApiError("InvalidParameterException", "Assign public IP is not supported for this launch type.");
    }
    this.checkOverrides(input.overrides);
    this.checkTags(input.tags);
    const overrides = input.overrides as Json | undefined;
    this.authorizePassRoles(
      overrides?.taskRoleArn ?? taskDefinition.taskRoleArn,
      overrides?.executionRoleArn ?? taskDefinition.executionRoleArn,
    );
    if (Array.isArray(input.tags) && input.tags.length > 0)
      this.authorize("ecs:TagResource", `${cluster.clusterArn.replace(":cluster/", ":task/")}/*`);
    const count = Number(input.count ?? 1);
    const { clientToken, ...request } = input;
    const fingerprint = JSON.stringify(request);
    const tokenKey = `${cluster.clusterArn} ${String(clientToken)}`;
    if (typeof clientToken === "string") {
      const remembered = this.tokens.get(tokenKey);
      const earlier = remembered && this.clock.now() - remembered.at < clientTokenTtlMs ? remembered : undefined;
      if (earlier && earlier.fingerprint !== fingerprint) {
        throw new AwsApiError(
          "ConflictException",
          "The specified client token has already been used in a different request.",
          400,
          {
            resourceIds: earlier.taskArns,
          },
        );
      }
      if (earlier)
        return { tasks: earlier.taskArns.map((arn) => this.taskView(this.tasks.get(arn) as Task, true)), failures: [] };
    }
    const placementFailure = this.placementFailures.shift();
    if (placementFailure) return { tasks: [], failures: [{ arn: cluster.clusterArn, ...placementFailure }] };
    const container = taskDefinition.containerDefinitions[0] as Json;
    const override = ((input.overrides as Json | undefined)?.containerOverrides as Json[] | undefined)?.[0];
    if (override && override.name !== container.name) {
      throw new AwsApiError(
        "InvalidParameterException",
        `Override for container named ${String(override.name)} is not a container in the TaskDefinition.`,
      );
    }
    const environment: Record<string, string> = {};
    for (const e of [
      ...((container.environment as Tag[] | undefined) ?? []),
      ...((override?.environment as Tag[] | undefined) ?? []),
    ]) {
      const pair = e as unknown as { name: string; value: string };
      environment[pair.name] = pair.value;
    }
    // What the container runs: its entry point followed by its (possibly overridden) command.
    const command = [
      ...((container.entryPoint as string[] | undefined) ?? []),
      ...((override?.command as string[] | undefined) ?? (container.command as string[] | undefined) ?? []),
    ];
    const tags = (input.tags as Tag[] | undefined) ?? [];
    const created: Task[] = [];
    for (let i = 0; i < count; i++) {
      const script = {
        ...defaultScript,
        ...this.scriptFor({
          family: taskDefinition.family,
          command,
          environment,
          tags: Object.fromEntries(tags.map((t) => [t.key, t.value])),
        }),
      };
      const task = this.addTask(cluster, taskDefinition, script, {
        overrides: (input.overrides as Json | undefined) ?? {},
        tags,
        group: String(input.group ?? `family:${taskDefinition.family}`),
        command,
        ...(typeof input.startedBy === "string" ? { startedBy: input.startedBy } : {}),
        ...(typeof input.launchType === "string" ? { launchType: input.launchType } : {}),
        ...(Array.isArray(input.capacityProviderStrategy)
          ? { capacityProviderName: String((input.capacityProviderStrategy[0] as Json).capacityProvider) }
          : {}),
      });
      (task as Task & { network?: Json }).network = input.networkConfiguration as Json | undefined;
      created.push(task);
    }
    if (typeof clientToken === "string")
      this.tokens.set(tokenKey, { fingerprint, taskArns: created.map((t) => t.taskArn), at: this.clock.now() });
    return { tasks: created.map((t) => this.taskView(t, true)), failures: [] };
  }

  /**
   * RunTask's clientToken: "Up to 64 characters are allowed. The valid
   * characters are characters in the range of 33-126, inclusive." (ECS API
   * reference, RunTask, as carried in @aws-sdk/client-ecs's RunTaskRequest
   * model). The length message follows ECS's wording for its other length
   * limits, "startedBy longer than 36." and "taskId longer than 36."
   * (InvalidParameterException, quoted in convox/rack#1727 and
   * sil-org/ecs-deploy#43); the character message is the fake's own.
   */
  private checkClientToken(clientToken: unknown): void {
    if (clientToken === undefined) return;
    if (typeof clientToken !== "string") {
      throw new AwsApiError("InvalidParameterException", "clientToken must be a string.");
    }
    if (clientToken.length > clientTokenMaxLength) {
      throw new AwsApiError("InvalidParameterException", `clientToken longer than ${clientTokenMaxLength}.`);
    }
    if (!/^[\x21-\x7e]*$/.test(clientToken)) {
      throw new AwsApiError(
        "InvalidParameterException",
        "clientToken may only contain characters in the range of 33-126, inclusive.",
      );
    }
  }

  /**
   * "A total of 8192 characters are allowed for overrides. This limit
   * includes the JSON formatting characters of the override structure." (ECS
   * API reference, RunTask `overrides`, in @aws-sdk/client-ecs's model.) The
   * fake measures the JSON the SDK sent; the message is the fake's own.
   */
  private checkOverrides(overrides: unknown): void {
    if (overrides === undefined) return;
    const length = JSON.stringify(overrides).length;
    if (length > overridesMaxLength) {
      throw new AwsApiError(
        "InvalidParameterException",
        `Container Overrides length must be at most ${overridesMaxLength}, got ${length}.`,
      );
    }
  }

  /**
   * Tag rules (ECS API reference, RunTask/TagResource `tags`, in
   * @aws-sdk/client-ecs's model): "Maximum number of tags per resource - 50";
   * "each tag key must be unique"; keys 1-128 and values at most 256
   * characters; allowed characters "letters, numbers, and spaces representable
   * in UTF-8, and the following characters: + - = . _ : / @" (the Tag key and
   * value pattern `^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`, which leaves out tab and
   * newline); "Do not use aws:, AWS:, or any upper or lowercase combination of
   * such as a prefix for either keys or values". The messages are the fake's own.
   */
  private checkTags(tags: unknown): void {
    if (tags === undefined) return;
    const list = tags as Tag[];
    const invalid = (message: string) => new AwsApiError("InvalidParameterException", message);
    if (list.length > maxTagsPerResource) throw invalid(`Tags cannot be more than ${maxTagsPerResource}.`);
    const keys = new Set<string>();
    for (const { key, value = "" } of list) {
      if (typeof key !== "string" || key.length < 1 || key.length > 128)
        throw invalid("Tag keys must be 1-128 characters.");
      if (value.length > 256) throw invalid("Tag values must be at most 256 characters.");
      if (!tagPattern.test(key) || !tagPattern.test(value))
        throw invalid(`Tag ${JSON.stringify(key)} contains characters that are not allowed in tags.`);
      if (/^aws:/i.test(key) || /^aws:/i.test(value))
        throw invalid("The aws: prefix is reserved for AWS use in tag keys and values.");
      if (keys.has(key)) throw invalid(`Tag key ${JSON.stringify(key)} is used more than once.`);
      keys.add(key);
    }
  }

  private addTask(
    cluster: Cluster,
    taskDefinition: TaskDefinition,
    script: TaskScript,
    details: Pick<
      Task,
      "overrides" | "tags" | "group" | "command" | "startedBy" | "launchType" | "capacityProviderName"
    >,
  ): Task {
    const taskId = this.nextId();
    const region = cluster.clusterArn.split(":")[3];
    const container = taskDefinition.containerDefinitions[0] as Json;
    const logConfiguration = container.logConfiguration as
      | { logDriver?: string; options?: Record<string, string> }
      | undefined;
    const task: Task = {
      taskArn: `arn:aws:ecs:${region}:${this.account}:task/${cluster.clusterName}/${taskId}`,
      taskId,
      cluster,
      taskDefinition,
      createdAt: this.clock.now(),
      script,
      containerName: String(container.name),
      image: String(container.image),
      linesWritten: 0,
      streamCreated: false,
      ...details,
    };
    if (logConfiguration?.logDriver === "awslogs" && logConfiguration.options) {
      const o = logConfiguration.options;
      const group = o["awslogs-group"] ?? "";
      const createGroup = o["awslogs-create-group"] === "true";
      task.log = {
        group,
        stream: `${o["awslogs-stream-prefix"] ?? "ecs"}/${task.containerName}/${taskId}`,
        createGroup,
      };
      if (!createGroup && !this.logs.hasGroup(group)) {
        // What ECS does when the awslogs driver cannot find its group: the task never starts.
        task.script = {
          ...script,
          exitCode: null,
          stopCode: "TaskFailedToStart",
          stoppedReason: `ResourceInitializationError: failed to validate logger args: The specified log group does not exist. : exit status 1`,
        };
        delete task.log;
      }
    }
    this.tasks.set(task.taskArn, task);
    return task;
  }

  /**
   * The task's status at time `now`, from its script and any StopTask. A stopped task goes through the
   * stopping states ("DEACTIVATING", "STOPPING", "DEPROVISIONING", then "STOPPED": ECS developer guide,
   * "Amazon ECS task lifecycle"; the fake uses STOPPING while the container winds down and DEPROVISIONING
   * after): SIGTERM first, SIGKILL when the stop timeout runs out.
   */
  private timeline(task: Task, now: number) {
    const s = task.script;
    const pendingAt = task.createdAt + s.provisioningMs;
    const startAt = pendingAt + s.pendingMs;
    const naturalEnd = s.exitCode === null ? startAt : startAt + s.runMs;
    const stoppedByUser = task.userStop !== undefined && task.userStop.at < naturalEnd;
    let containerEnd = naturalEnd;
    let exitCode: number | undefined = s.exitCode ?? undefined;
    let stopAt = naturalEnd;
    if (task.userStop && stoppedByUser) {
      const at = task.userStop.at;
      if (s.exitCode !== null && at > startAt) {
        // Running: SIGTERM now, SIGKILL when the stop timeout runs out, unless it ends on its own first.
        const grace = stopTimeoutMs(task.taskDefinition);
        const onTerm = s.exitAfterSigtermMs !== null && s.exitAfterSigtermMs < grace ? s.exitAfterSigtermMs : null;
        containerEnd = at + (onTerm ?? grace);
        exitCode = onTerm === null ? sigkillExitCode : s.sigtermExitCode;
        if (naturalEnd <= containerEnd) {
          containerEnd = naturalEnd;
          exitCode = s.exitCode ?? undefined;
        }
      } else {
        // Not started yet: nothing to signal.
        containerEnd = at;
        exitCode = undefined;
      }
      stopAt = containerEnd + s.deprovisioningMs;
    }
    const started = s.exitCode !== null && containerEnd > startAt;
    if (now >= stopAt) {
      return {
        lastStatus: "STOPPED",
        startedAt: started ? startAt : undefined,
        stoppedAt: stopAt,
        stoppedByUser,
        exitCode: started ? exitCode : undefined,
      };
    }
    if (task.userStop && stoppedByUser && now >= task.userStop.at) {
      return {
        lastStatus: now >= containerEnd ? "DEPROVISIONING" : "STOPPING",
        startedAt: started && now >= startAt ? startAt : undefined,
        stoppedAt: undefined,
        stoppedByUser,
        exitCode: undefined,
      };
    }
    if (now >= startAt)
      return { lastStatus: "RUNNING", startedAt: startAt, stoppedAt: undefined, stoppedByUser, exitCode: undefined };
    if (now >= pendingAt)
      return { lastStatus: "PENDING", startedAt: undefined, stoppedAt: undefined, stoppedByUser, exitCode: undefined };
    return {
      lastStatus: "PROVISIONING",
      startedAt: undefined,
      stoppedAt: undefined,
      stoppedByUser,
      exitCode: undefined,
    };
  }

  private taskView(task: Task, includeTags: boolean): Json {
    const view = this.timeline(task, this.clock.now());
    const stopped = view.lastStatus === "STOPPED";
    const s = task.script;
    const container: Json = {
      containerArn: `arn:aws:ecs:${task.taskArn.split(":")[3]}:${this.account}:container/${task.cluster.clusterName}/${task.taskId}/${task.containerName}`,
      taskArn: task.taskArn,
      name: task.containerName,
      image: task.image,
      lastStatus: view.lastStatus === "PROVISIONING" ? "PENDING" : view.lastStatus,
    };
    if (stopped && view.exitCode !== undefined) container.exitCode = view.exitCode;
    if (stopped && !view.stoppedByUser && s.containerReason) container.reason = s.containerReason;
    const json: Json = {
      taskArn: task.taskArn,
      clusterArn: task.cluster.clusterArn,
      taskDefinitionArn: task.taskDefinition.taskDefinitionArn,
      lastStatus: view.lastStatus,
      desiredStatus: stopped || task.userStop ? "STOPPED" : "RUNNING",
      createdAt: task.createdAt / 1000,
      group: task.group,
      containers: [container],
      overrides: task.overrides,
      version: 1,
    };
    if (task.startedBy) json.startedBy = task.startedBy;
    if (task.launchType) json.launchType = task.launchType;
    if (task.capacityProviderName) json.capacityProviderName = task.capacityProviderName;
    if (view.startedAt !== undefined) json.startedAt = view.startedAt / 1000;
    if (stopped) {
      json.stoppedAt = (view.stoppedAt as number) / 1000;
      json.stopCode = view.stoppedByUser
        ? "UserInitiated"
        : (s.stopCode ?? (s.exitCode === null ? "TaskFailedToStart" : "EssentialContainerExited"));
      json.stoppedReason = view.stoppedByUser
        ? task.userStop?.reason
        : (s.stoppedReason ?? "Essential container in task exited");
    }
    if (includeTags) json.tags = task.tags;
    return json;
  }

  private findTask(cluster: Cluster, ref: string): Task | undefined {
    if (ref.startsWith("arn:")) {
      const task = this.tasks.get(ref);
      return task?.cluster === cluster ? task : undefined;
    }
    return [...this.tasks.values()].find((t) => t.cluster === cluster && t.taskId === ref);
  }

  private opDescribeTasks(input: Json): Json {
    const cluster = this.cluster(input);
    const refs = (input.tasks as string[] | undefined) ?? [];
    if (refs.length === 0) throw new AwsApiError("InvalidParameterException", "Tasks cannot be empty.");
    if (refs.length > 100) throw new AwsApiError("InvalidParameterException", "Tasks cannot be more than 100.");
    const includeTags = ((input.include as string[] | undefined) ?? []).includes("TAGS");
    const tasks: Json[] = [];
    const failures: Json[] = [];
    const now = this.clock.now();
    for (const ref of refs) {
      const task = this.findTask(cluster, ref);
      if (task && now - task.createdAt >= this.describeLagMs) tasks.push(this.taskView(task, includeTags));
      else failures.push({ arn: ref, reason: "MISSING" });
    }
    return { tasks, failures };
  }

  private opStopTask(input: Json): Json {
    const cluster = this.cluster(input);
    if (typeof input.reason === "string" && input.reason.length > stopReasonMaxLength) {
      // The limit is ECS's (stopReasonMaxLength); the message is the fake's own.
      throw new AwsApiError("InvalidParameterException", `reason longer than ${stopReasonMaxLength}.`);
    }
    const task = this.findTask(cluster, String(input.task ?? ""));
    if (!task) throw new AwsApiError("InvalidParameterException", "The referenced task was not found.");
    const now = this.clock.now();
    if (!task.userStop && this.timeline(task, now).lastStatus !== "STOPPED") {
      task.userStop = { at: now, reason: String(input.reason ?? "Task stopped by user") };
    }
    return { task: this.taskView(task, false) };
  }

  private opListTasks(input: Json): Json {
    const cluster = this.cluster(input);
    const now = this.clock.now();
    const wantStopped = input.desiredStatus === "STOPPED";
    const taskArns = [...this.tasks.values()]
      .filter((t) => t.cluster === cluster)
      .filter((t) => input.serviceName === undefined || t.group === `service:${String(input.serviceName)}`)
      .filter((t) => input.family === undefined || t.taskDefinition.family === input.family)
      .filter((t) => input.startedBy === undefined || t.startedBy === input.startedBy)
      .filter((t) => (this.timeline(t, now).lastStatus === "STOPPED" || t.userStop !== undefined) === wantStopped)
      .map((t) => t.taskArn);
    return { taskArns };
  }

  private findService(cluster: Cluster, ref: string): Service | undefined {
    const name = ref.startsWith("arn:") ? ref.slice(ref.lastIndexOf("/") + 1) : ref;
    return this.services.get(`${cluster.clusterName}/${name}`);
  }

  private checkDesiredCount(value: unknown): number {
    const n = Number(value ?? 0);
    if (!Number.isInteger(n) || n < 0 || n > int32Max) {
      throw new AwsApiError("InvalidParameterException", `desiredCount must be an integer between 0 and ${int32Max}.`);
    }
    return n;
  }

  private addEvent(service: Service, message: string): void {
    service.events.unshift({ id: this.nextId().slice(0, 8), createdAt: this.clock.now() / 1000, message });
    service.events.length = Math.min(service.events.length, 100);
  }

  private startServiceTask(service: Service): Task {
    const taskDefinition = this.resolveTaskDefinition(service.taskDefinition, "InvalidParameterException");
    return this.addTask(
      service.cluster,
      taskDefinition,
      { ...defaultScript, runMs: Number.POSITIVE_INFINITY },
      {
        overrides: {},
        tags: [],
        group: `service:${service.serviceName}`,
        command: [],
        startedBy: service.deploymentId,
        ...(service.launchType ? { launchType: service.launchType } : {}),
      },
    );
  }

  private opCreateService(input: Json): Json {
    const cluster = this.cluster(input);
    const serviceName = String(input.serviceName ?? "");
    if (!/^[A-Za-z0-9_-]{1,255}$/.test(serviceName))
      throw new AwsApiError("InvalidParameterException", "Service name is invalid.");
    const existing = this.findService(cluster, serviceName);
    if (existing && existing.status !== "INACTIVE")
      throw new AwsApiError("InvalidParameterException", "Creation of service was not idempotent.");
    const taskDefinition = this.resolveTaskDefinition(String(input.taskDefinition ?? ""), "InvalidParameterException");
    const desiredCount = this.checkDesiredCount(input.desiredCount);
    this.checkTags(input.tags);
    if (Array.isArray(input.tags) && input.tags.length > 0)
      this.authorize("ecs:TagResource", `${cluster.clusterArn.replace(":cluster/", ":service/")}/${serviceName}`);
    const now = this.clock.now();
    const service: Service = {
      serviceArn: `${cluster.clusterArn.replace(":cluster/", ":service/")}/${serviceName}`,
      serviceName,
      cluster,
      status: "ACTIVE",
      desiredCount,
      taskDefinition: taskDefinition.taskDefinitionArn,
      createdAt: now,
      deploymentId: `ecs-svc/${this.nextId().slice(0, 19)}`,
      deploymentCreatedAt: now,
      events: [],
      tags: (input.tags as Tag[] | undefined) ?? [],
      ...(typeof input.launchType === "string" ? { launchType: input.launchType } : {}),
      ...(Array.isArray(input.capacityProviderStrategy)
        ? { capacityProviderStrategy: input.capacityProviderStrategy as Json[] }
        : {}),
      ...(input.networkConfiguration ? { networkConfiguration: input.networkConfiguration as Json } : {}),
    };
    this.services.set(`${cluster.clusterName}/${serviceName}`, service);
    this.addEvent(service, `(service ${serviceName}) has reached a steady state.`);
    return { service: this.serviceView(service) };
  }

  private serviceView(service: Service, includeTags = true): Json {
    const running = service.failure || service.status !== "ACTIVE" ? 0 : service.desiredCount;
    return {
      serviceArn: service.serviceArn,
      serviceName: service.serviceName,
      clusterArn: service.cluster.clusterArn,
      status: service.status,
      desiredCount: service.desiredCount,
      runningCount: running,
      pendingCount: service.failure ? service.desiredCount : 0,
      taskDefinition: service.taskDefinition,
      launchType: service.launchType,
      capacityProviderStrategy: service.capacityProviderStrategy,
      networkConfiguration: service.networkConfiguration,
      createdAt: service.createdAt / 1000,
      deployments: [
        {
          id: service.deploymentId,
          status: "PRIMARY",
          taskDefinition: service.taskDefinition,
          desiredCount: service.desiredCount,
          runningCount: running,
          pendingCount: service.failure ? service.desiredCount : 0,
          failedTasks: service.failure ? 1 : 0,
          createdAt: service.deploymentCreatedAt / 1000,
          updatedAt: this.clock.now() / 1000,
          rolloutState: service.failure ? "IN_PROGRESS" : "COMPLETED",
          rolloutStateReason: service.failure
            ? "ECS deployment circuit breaker: tasks failed to start."
            : "ECS deployment completed.",
        },
      ],
      events: service.events,
      ...(includeTags ? { tags: service.tags } : {}),
    };
  }

  private opDescribeServices(input: Json): Json {
    const cluster = this.cluster(input);
    const refs = (input.services as string[] | undefined) ?? [];
    if (refs.length > 10) throw new AwsApiError("InvalidParameterException", "services can have at most 10 items.");
    // "include: Determines whether you want to see the resource tags for the service. If TAGS is specified,
    // the tags are included in the response. If this field is omitted, tags aren't included in the
    // response." (ECS API reference, DescribeServices)
    const includeTags = ((input.include as string[] | undefined) ?? []).includes("TAGS");
    const services: Json[] = [];
    const failures: Json[] = [];
    for (const ref of refs) {
      const service = this.findService(cluster, ref);
      if (service) services.push(this.serviceView(service, includeTags));
      else failures.push({ arn: ref, reason: "MISSING" });
    }
    return { services, failures };
  }

  private opUpdateService(input: Json): Json {
    const cluster = this.cluster(input);
    const service = this.findService(cluster, String(input.service ?? ""));
    if (!service) throw new AwsApiError("ServiceNotFoundException", "Service not found.");
    if (service.status !== "ACTIVE") throw new AwsApiError("ServiceNotActiveException", "Service was not ACTIVE.");
    if (input.desiredCount !== undefined) service.desiredCount = this.checkDesiredCount(input.desiredCount);
    if (typeof input.taskDefinition === "string") {
      const taskDefinition = this.resolveTaskDefinition(input.taskDefinition, "InvalidParameterException");
      if (taskDefinition.taskDefinitionArn !== service.taskDefinition) {
        service.taskDefinition = taskDefinition.taskDefinitionArn;
        service.deploymentId = `ecs-svc/${this.nextId().slice(0, 19)}`;
        service.deploymentCreatedAt = this.clock.now();
        delete service.failure;
      }
    }
    if (input.networkConfiguration) service.networkConfiguration = input.networkConfiguration as Json;
    if (service.failure === undefined)
      this.addEvent(service, `(service ${service.serviceName}) has reached a steady state.`);
    return { service: this.serviceView(service) };
  }

  private opDeleteService(input: Json): Json {
    const cluster = this.cluster(input);
    const service = this.findService(cluster, String(input.service ?? ""));
    if (!service || service.status === "INACTIVE")
      throw new AwsApiError("ServiceNotFoundException", "Service not found.");
    if (service.desiredCount > 0 && input.force !== true) {
      throw new AwsApiError("InvalidParameterException", "The service cannot be stopped while it is scaled above 0.");
    }
    service.status = "DRAINING";
    const view = this.serviceView(service);
    service.status = "INACTIVE";
    return { service: view };
  }

  /** The active service an ARN names (`arn:aws:ecs:REGION:ACCOUNT:service/CLUSTER/NAME`), for the tagging calls. */
  private serviceByArn(resourceArn: unknown): Service {
    const service = [...this.services.values()].find((s) => s.serviceArn === resourceArn && s.status !== "INACTIVE");
    // TagResource/UntagResource list ResourceNotFoundException: "The specified resource wasn't found." (ECS API
    // reference); only services are taggable in this fake.
    if (!service) throw new AwsApiError("ResourceNotFoundException", "The specified resource wasn't found.");
    return service;
  }

  /**
   * TagResource: "If existing tags on a resource aren't specified in the request parameters, they aren't
   * changed"; a key that exists gets the new value (ECS API reference, TagResource); the result is held to the
   * same tag rules as at creation, 50 tags per resource included.
   */
  private opTagResource(input: Json): Json {
    const service = this.serviceByArn(input.resourceArn);
    const added = (input.tags as Tag[] | undefined) ?? [];
    if (added.length === 0) throw new AwsApiError("InvalidParameterException", "Tags must not be empty.");
    const byKey = new Map(service.tags.map((tag) => [tag.key, tag]));
    for (const tag of added) byKey.set(tag.key, tag);
    const merged = [...byKey.values()];
    this.checkTags(merged);
    service.tags = merged;
    return {};
  }

  /** UntagResource: removes the named keys; keys the resource does not have are ignored (ECS API reference). */
  private opUntagResource(input: Json): Json {
    const service = this.serviceByArn(input.resourceArn);
    const keys = new Set((input.tagKeys as string[] | undefined) ?? []);
    service.tags = service.tags.filter((tag) => !keys.has(tag.key));
    return {};
  }
}
