import { InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import {
  FLOTILLA_LABELS,
  flotillaLabels,
  labelKeyProblem,
  labelValue,
  MAX_LABEL_LENGTH,
  runKey,
  runName,
  validateLabelKeys,
} from "./job-names.js";

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

describe("label keys, as the Kubernetes API server validates them", () => {
  it("accepts [prefix/]name with a DNS-subdomain prefix of at most 253 and a name of at most 63 characters", () => {
    const prefix = `${"a".repeat(63)}.${"b".repeat(63)}.${"c".repeat(63)}.${"d".repeat(61)}`;
    expect(prefix).toHaveLength(253);
    for (const key of [
      "team",
      "Team_1.x-y",
      "a",
      "example.com/team",
      `${prefix}/${"n".repeat(63)}`,
      "app.kubernetes.io/name",
    ])
      expect(labelKeyProblem(key), key).toBeUndefined();
  });

  it.each([
    ["bad key", /name part must consist of letters/],
    ["-team", /start and end with a letter or digit/],
    ["team_", /start and end with a letter or digit/],
    ["n".repeat(64), /name part is 64 characters; at most 63/],
    [`${"a".repeat(254)}/x`, /prefix is 254 characters; at most 253/],
    ["Example.com/team", /prefix must be a DNS subdomain/],
    ["/team", /prefix before '\/' is empty/],
    ["example.com/", /name part is empty/],
    ["a/b/c", /more than one '\/'/],
    ["", /name part is empty/],
  ])("refuses %j", (key, problem) => {
    expect(labelKeyProblem(key)).toMatch(problem);
  });

  it("names every bad key, the problem and the fix in one error", () => {
    const error = (() => {
      try {
        validateLabelKeys("kubernetes", { ok: "1", "bad key": "2", "Example.com/x": "3" });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error?.message).toMatch(
      /^kubernetes runner: label key "bad key" is invalid: .*; label key "Example.com\/x" is invalid: .*rename the key in request.labels/,
    );
  });
});
