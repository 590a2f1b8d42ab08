import { describe, expect, it } from "vitest";
import { type FilterableEntry, parseLogFilter } from "./log-filter.js";

const entry: FilterableEntry = {
  logName: "projects/p/logs/run.googleapis.com%2Fstdout",
  resource: { type: "cloud_run_job", labels: { job_name: "j", location: "us-central1" } },
  labels: { "run.googleapis.com/execution_name": "j-abcde", "run.googleapis.com/task_index": "0" },
  timestamp: Date.parse("2026-01-01T00:00:10Z"),
  receiveTimestamp: Date.parse("2026-01-01T00:00:11Z"),
  severity: "WARNING",
  insertId: "i1",
  textPayload: "disk almost full",
};
const matches = (filter: string) => parseLogFilter(filter)(entry);

describe("parseLogFilter", () => {
  it("matches the filters written for Cloud Run job logs, with AND written or implied", () => {
    expect(matches('resource.type="cloud_run_job" labels."run.googleapis.com/execution_name"="j-abcde"')).toBe(true);
    expect(matches('resource.type = "cloud_run_job" AND resource.labels.job_name = "j"')).toBe(true);
    expect(matches('labels."run.googleapis.com/execution_name"="j-other"')).toBe(false);
  });

  it("compares timestamps as times, severities by level, and supports OR, NOT and parentheses", () => {
    expect(matches('timestamp>="2026-01-01T00:00:10Z"')).toBe(true);
    expect(matches('timestamp>"2026-01-01T00:00:10.000Z"')).toBe(false);
    expect(matches("severity>=WARNING")).toBe(true);
    expect(matches("severity>ERROR")).toBe(false);
    expect(matches('(resource.type="gce_instance" OR resource.type="cloud_run_job") AND NOT severity=DEBUG')).toBe(
      true,
    );
    expect(matches('-textPayload:"disk"')).toBe(false);
    expect(matches('textPayload:"almost"')).toBe(true);
  });

  it("matches everything with an empty filter", () => {
    expect(matches("")).toBe(true);
  });

  it("refuses what the fake does not simulate, naming it", () => {
    expect(() => parseLogFilter('jsonPayload.level="x"')).toThrow(/jsonPayload\.level/);
    expect(() => parseLogFilter('textPayload=~"di.k"')).toThrow(/regular expression/);
    expect(() => parseLogFilter('"just text"')).toThrow(/global text search/);
    expect(() => parseLogFilter('timestamp>="yesterday"')).toThrow(/RFC 3339/);
    expect(() => parseLogFilter('(resource.type="x"')).toThrow(/parentheses/);
    expect(() => parseLogFilter("x".repeat(20_001))).toThrow(/20000/);
  });
});
