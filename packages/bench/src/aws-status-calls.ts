/**
 * Measures the ECS status calls the plugin makes per tracked job: starts the
 * AWS fake, runs `jobs` jobs that keep running, then (1) drives `polls`
 * background poll cycles and (2) asks JobStatus for every job at once from a
 * cold cache, counting DescribeTasks calls at the fake. With batching the
 * calls per job per poll are ceil(jobs / 100) / jobs, e.g. 0.01 at 1000 jobs,
 * against 1 for a poller that describes each job on its own.
 *
 * Lives in the private bench package, not in @flotilla/plugin-aws: it needs the
 * private wire-level fakes (@flotilla/fakes), which an installed plugin has not.
 */

import { create } from "@bufbuild/protobuf";
import { startFakeAws } from "@flotilla/fakes";
import { createAwsPlugin } from "@flotilla/plugin-aws";
import { configureDirectly, handlerContext } from "@flotilla/plugin-sdk/testing";
import { JobStatusRequestSchema, RunJobRequestSchema } from "@flotilla/protocol";

/** The result of {@link measureStatusCalls}. */
export interface StatusCallsMeasurement {
  /** Jobs tracked. */
  jobs: number;
  /** Background poll cycles driven. */
  polls: number;
  /** DescribeTasks calls made by those poll cycles. */
  pollDescribeTasksCalls: number;
  /** pollDescribeTasksCalls / (jobs × polls); 1.0 would mean one call per job per poll. */
  callsPerJobPerPoll: number;
  /** DescribeTasks calls made when every job's JobStatus was asked at once with a cold cache. */
  coldJobStatusDescribeTasksCalls: number;
  /** coldJobStatusDescribeTasksCalls / jobs. */
  coldCallsPerJob: number;
}

/** Runs the measurement against a fresh AWS fake; see the module comment. */
export async function measureStatusCalls(
  options: { jobs?: number; polls?: number } = {},
): Promise<StatusCallsMeasurement> {
  const jobs = options.jobs ?? 1000;
  const polls = options.polls ?? 5;
  const fake = await startFakeAws();
  fake.ecs.setTaskScript(() => ({ runMs: Number.POSITIVE_INFINITY }));
  const config = {
    region: "us-east-1",
    endpoint: fake.endpoint,
    subnets: ["subnet-0123456789abcdef0"],
    executionRoleArn: "arn:aws:iam::123456789012:role/ecsTaskExecutionRole",
    maxAttempts: 1,
    // The background timer must not fire during the measurement: polls are driven by hand.
    statusPollIntervalMs: 600_000,
  };
  process.env.FLOTILLA_BENCH_AWS_KEY ??= "bench";
  const configure = {
    configJson: new TextEncoder().encode(JSON.stringify(config)),
    credentials: [
      { name: "access_key_id", reference: "secret://env/FLOTILLA_BENCH_AWS_KEY" },
      { name: "secret_access_key", reference: "secret://env/FLOTILLA_BENCH_AWS_KEY" },
    ],
  };
  const plugin = createAwsPlugin();
  const cold = createAwsPlugin();
  try {
    const context = handlerContext({ config: await configureDirectly(plugin.definition, configure) });
    const runner = plugin.definition.runner;
    if (!runner) throw new Error("aws plugin has no runner");
    const handles = [];
    for (let i = 0; i < jobs; i += 50) {
      const batch = Array.from({ length: Math.min(50, jobs - i) }, (_, j) =>
        runner.runJob(create(RunJobRequestSchema, { spec: { name: `bench-${i + j}`, image: "busybox" } }), context),
      );
      for (const out of await Promise.all(batch)) handles.push((await out).handle);
    }
    fake.calls.reset();
    for (let p = 0; p < polls; p++) await plugin.runtime().poller.pollOnce();
    const pollCalls = fake.calls.count("DescribeTasks");

    await configureDirectly(cold.definition, configure);
    fake.calls.reset();
    const coldRunner = cold.definition.runner;
    if (!coldRunner) throw new Error("aws plugin has no runner");
    await Promise.all(
      handles.map((handle) => coldRunner.jobStatus(create(JobStatusRequestSchema, { handle }), context)),
    );
    const coldCalls = fake.calls.count("DescribeTasks");
    return {
      jobs,
      polls,
      pollDescribeTasksCalls: pollCalls,
      callsPerJobPerPoll: pollCalls / (jobs * polls),
      coldJobStatusDescribeTasksCalls: coldCalls,
      coldCallsPerJob: coldCalls / jobs,
    };
  } finally {
    await plugin.dispose();
    await cold.dispose();
    await fake.close();
  }
}
