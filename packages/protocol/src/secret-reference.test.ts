import { describe, expect, it } from "vitest";
import { Code, InvalidArgumentError } from "./errors.js";
import { isSecretReference, parseSecretEnv, parseSecretReference, secretSourceVariables } from "./secret-reference.js";

function failureOf(reference: string, where = "secret_env.DB") {
  try {
    parseSecretReference(reference, where);
  } catch (error) {
    return error as InvalidArgumentError;
  }
  throw new Error(`${reference} was accepted`);
}

describe("parseSecretReference", () => {
  it.each([
    ["secret://env/DB_PASSWORD", "env", "DB_PASSWORD"],
    ["secret://file/db-password", "file", "db-password"],
    ["secret://db-creds/password", "db-creds", "password"],
    ["secret://db.creds.example/pass.word", "db.creds.example", "pass.word"],
    // Hierarchical SSM names keep their leading slash in the store's part.
    ["secret://ssm//prod/db", "ssm", "/prod/db"],
    ["secret://secretsmanager/prod/db:password::", "secretsmanager", "prod/db:password::"],
    [
      "secret://arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
      "arn",
      "aws:secretsmanager:eu-west-1:123456789012:secret:db-AbCdEf",
    ],
    [
      "secret://arn:aws:ssm:eu-west-1:123456789012:parameter/prod/db",
      "arn",
      "aws:ssm:eu-west-1:123456789012:parameter/prod/db",
    ],
  ])("splits %s into store %s and rest %s", (reference, store, rest) => {
    expect(parseSecretReference(reference, "x")).toEqual({ store, rest, reference });
    expect(isSecretReference(reference)).toBe(true);
  });

  it("refuses a value that is not a reference without echoing it", () => {
    const error = failureOf("hunter2-the-password");
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.code).toBe(Code.InvalidArgument);
    expect(error.message).toMatch(/^secret_env\.DB: expected a secret reference/);
    expect(error.message).not.toContain("hunter2");
  });

  it.each([
    ["secret://", /does not start with a store name/],
    ["secret:///key", /does not start with a store name/],
    ["secret://Env/NAME", /does not start with a store name/],
    ["secret://-env/NAME", /does not start with a store name/],
    ["secret://env-/NAME", /does not start with a store name/],
    [`secret://${"a".repeat(254)}/k`, /does not start with a store name/],
    ["secret://env", /names store "env" but no key/],
    ["secret://env/", /names store "env" but no key/],
    ["secret://env/A B", /names store "env" but no key/],
    ["secret://env/A\tB", /names store "env" but no key/],
    ["secret://env/A\u007f", /names store "env" but no key/],
    ["secret://arn:", /no ARN after secret:\/\/arn:/],
    ["secret://arn:aws ssm", /no ARN after secret:\/\/arn:/],
  ])("refuses %j, naming the place and the reference", (reference, problem) => {
    const error = failureOf(reference);
    expect(error).toBeInstanceOf(InvalidArgumentError);
    expect(error.message).toMatch(problem);
    expect(error.message).toContain(`secret_env.DB: ${JSON.stringify(reference)}`);
    expect(isSecretReference(reference)).toBe(false);
  });

  it("accepts a store name of the longest DNS subdomain", () => {
    expect(parseSecretReference(`secret://${"a".repeat(253)}/k`, "x").store).toHaveLength(253);
  });
});

describe("parseSecretEnv", () => {
  it("parses every variable and names the bad one", () => {
    const parsed = parseSecretEnv({ A: "secret://env/A", B: "secret://file/b" });
    expect([...parsed.entries()].map(([name, ref]) => [name, ref.store, ref.rest])).toEqual([
      ["A", "env", "A"],
      ["B", "file", "b"],
    ]);
    expect(() => parseSecretEnv({ A: "secret://env/A", B: "plain" }, "spec.secret_env")).toThrow(
      /^spec\.secret_env\.B: expected a secret reference/,
    );
  });
});

describe("secretSourceVariables", () => {
  it("names each variable a secret://env/ reference reads, once, and nothing else", () => {
    const secretEnv = {
      A: "secret://env/TOKEN_A",
      B: "secret://file/b",
      C: "secret://env/TOKEN_A",
      D: "secret://ssm//prod/db",
      E: "not-a-reference",
    };
    expect(secretSourceVariables(secretEnv)).toEqual(["TOKEN_A"]);
  });
});
