/**
 * A wire-level fake of the AWS APIs the AWS plugin calls: ECS and CloudWatch
 * Logs (AWS JSON 1.1) and EC2 DescribeRegions (EC2 Query), for tests that
 * point the real SDK clients at it.
 */
export { AwsApiError } from "./api-error.js";
export { CallCounter } from "./call-counter.js";
export { FakeClock } from "./clock.js";
export { defaultFakeRegions, FakeEc2, type FakeRegion } from "./ec2.js";
export { FakeEcs, type TaskScript, type TaskScriptContext } from "./ecs.js";
export { AwsFaults, type AwsWireError, FaultInjector } from "./faults.js";
export { FakeCloudWatchLogs, type FakeLogEvent, getLogEventsMaxBytes, getLogEventsMaxEvents } from "./logs.js";
export { type FakeAws, type FakeAwsOptions, startFakeAws } from "./server.js";
export { SignerLog } from "./signer-log.js";
export { type AssumedRole, FakeSts } from "./sts.js";
