import { describe, expect, it } from "vitest";
import { checkSecretRefs, collectKeyValue } from "./key-value.js";

describe("KEY=VALUE options", () => {
  it("collects repeated pairs, keeping = inside values", () => {
    const collect = collectKeyValue("-e");
    expect(collect("B=x=y", collect("A=1"))).toEqual({ A: "1", B: "x=y" });
  });

  it("rejects a pair without = or with a bad key, without echoing the value", () => {
    const collect = collectKeyValue("-e");
    expect(() => collect("JUSTKEY")).toThrow(/-e "JUSTKEY": expected KEY=VALUE/);
    const error = (() => {
      try {
        collect("1BAD=hunter2");
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error?.message).not.toContain("hunter2");
  });

  it("accepts only references as secrets and finds the env names they use", () => {
    expect(() => checkSecretRefs({ TOKEN: "hunter2" })).toThrow(/^--secret TOKEN: expected a secret reference/);
    expect(() => checkSecretRefs({ TOKEN: "secret://env/" })).toThrow(
      /^--secret TOKEN: "secret:\/\/env\/" names store/,
    );
    // Every store's reference passes: the provider that resolves it checks its own part.
    expect(() =>
      checkSecretRefs({ A: "secret://ssm//prod/db", B: "secret://arn:aws:secretsmanager:eu-west-1:1:secret:x" }),
    ).not.toThrow();
    expect(() => checkSecretRefs({ TOKEN: "hunter2" })).not.toThrow(/hunter2/);
  });
});
