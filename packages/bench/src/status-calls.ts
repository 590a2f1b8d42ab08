/**
 * Cloud status calls per tracked job: how many ECS DescribeTasks calls the
 * AWS plugin makes to follow 1000 running jobs, counted at the wire-level
 * AWS fake by `measureStatusCalls` (`aws-status-calls.ts`). With
 * batching the figure is ceil(jobs / 100) / jobs per poll (0.01 at 1000
 * jobs); one call per job per poll would be 1.
 */
import { measureStatusCalls, type StatusCallsMeasurement } from "./aws-status-calls.js";

/** How many jobs to track and how many poll cycles to drive. */
export interface StatusCallsPlan {
  /** Jobs tracked at once. */
  readonly jobs: number;
  /** Background poll cycles. */
  readonly polls: number;
}

/** The plan `npm run bench` uses: the 1000 jobs the brief names. */
export const fullStatusCallsPlan: StatusCallsPlan = { jobs: 1000, polls: 3 };
/** The `--quick` plan. */
export const quickStatusCallsPlan: StatusCallsPlan = { jobs: 150, polls: 1 };

/** Runs the AWS plugin's status-call measurement under `plan`. */
export function benchStatusCalls(plan: StatusCallsPlan): Promise<StatusCallsMeasurement> {
  return measureStatusCalls({ jobs: plan.jobs, polls: plan.polls });
}

export type { StatusCallsMeasurement };
