import { InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { FLOTILLA_LABELS, flotillaLabels, labelValue, MAX_LABEL_LENGTH, runKey, runName } from "./job-names.js";

const dns1123 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

describe("runName", () => {
  it("is the same for the same identity and different for another attempt or job", () => {
    const first = runName({ jobId: "etl/daily", attempt: 1 });
    expect(runName({ jobId: "etl/daily" })).toBe(first);
    expect(runName({ jobId: "etl/daily", attempt: 2 })).not.toBe(first);
    expect(runName({ jobId: "etl-daily" })).not.toBe(first);
    expect(first).toMatch(/^flt-etl-daily-[0-9a-f]{10}$/);
  });

  it("is a DNS-1123 label of at most maxLength characters for any job id", () => {
    for (const jobId of ["", "UPPER_case", "9-starts-with-digit", "ünïcødé/ß", "x".repeat(500), "a--b--", "---"]) {
      for (const maxLength of [63, 52, 20]) {
        const name = runName({ jobId }, { maxLength });
        expect(name.length).toBeLessThanOrEqual(maxLength);
        expect(name).toMatch(dns1123);
      }
    }
  });

  it("keeps long ids apart by the hash even when the readable part is cut", () => {
    const a = runName({ jobId: `${"x".repeat(100)}-a` });
    const b = runName({ jobId: `${"x".repeat(100)}-b` });
    expect(a).not.toBe(b);
    expect(a.length).toBe(MAX_LABEL_LENGTH);
  });

  it("derives from the idempotency key when one is given", () => {
    expect(runName({ jobId: "j" }, { idempotencyKey: "k1" })).toBe(
      runName({ jobId: "j", attempt: 5 }, { idempotencyKey: "k1" }),
    );
    expect(runKey({ jobId: "j" }, "k1")).toBe("key:k1");
  });

  it("refuses a maxLength with no room for prefix and hash", () => {
    expect(() => runName({ jobId: "j" }, { maxLength: 10 })).toThrow(InvalidArgumentError);
  });
});

describe("labelValue", () => {
  it("keeps valid values and makes any other text a valid label value of at most 63 characters", () => {
    expect(labelValue("nightly.report_v2")).toBe("nightly.report_v2");
    for (const text of ["a/b c", "-lead", "x".repeat(64), "ü", "Nightly Report/2026-11-23"]) {
      const value = labelValue(text);
      expect(value.length).toBeLessThanOrEqual(63);
      expect(value).toMatch(/^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$/);
    }
    expect(labelValue("x".repeat(64))).not.toBe(labelValue(`${"x".repeat(63)}y`));
  });
});

describe("flotillaLabels", () => {
  it("adds the managed-by, job and run-key labels over the caller's, with every value label-safe", () => {
    const labels = flotillaLabels({ jobId: "Nightly Report/2026-11-23" }, { team: "data science" });
    expect(labels[FLOTILLA_LABELS.managedBy]).toBe("flotilla");
    expect(labels.team).toMatch(/^data-science-[0-9a-f]{10}$/);
    expect(labels[FLOTILLA_LABELS.runKey]).toMatch(/^[0-9a-f]{20}$/);
    for (const value of Object.values(labels)) expect(value.length).toBeLessThanOrEqual(63);
  });
});
