import { InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { localConfig } from "./config.js";
import { DEFAULT_SECRETS_DIR } from "./secret-ref.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("localConfig.parse", () => {
  it("applies defaults to empty config and reads every key", () => {
    expect(localConfig.parse(new Uint8Array())).toEqual({
      max_log_lines: 100_000,
      kill_grace_ms: 2_000,
      inherit_env: true,
      secrets_dir: DEFAULT_SECRETS_DIR,
      durable_jobs: false,
    });
    expect(localConfig.defaults()).toEqual(localConfig.parse(new Uint8Array()));
    expect(
      localConfig.parse(
        bytes(
          '{"working_dir":"/tmp","max_log_lines":5,"kill_grace_ms":0,"inherit_env":false,"secrets_dir":"/s","state_dir":"/st","durable_jobs":true}',
        ),
      ),
    ).toEqual({
      working_dir: "/tmp",
      max_log_lines: 5,
      kill_grace_ms: 0,
      inherit_env: false,
      secrets_dir: "/s",
      state_dir: "/st",
      durable_jobs: true,
    });
  });

  it("names the bad key and what it expects", () => {
    expect(() => localConfig.parse(bytes('{"max_log_lines":0}'))).toThrow(InvalidArgumentError);
    expect(() => localConfig.parse(bytes('{"max_log_lines":0}'))).toThrow(
      "local provider config is invalid: max_log_lines: must be >= 1",
    );
    expect(() => localConfig.parse(bytes('{"colour":"red"}'))).toThrow(
      /^local provider config is invalid: colour: is not a known key; known keys are: working_dir, /,
    );
    expect(() => localConfig.parse(bytes('{"secrets_dir":"","inherit_env":"yes"}'))).toThrow(
      "local provider config is invalid: secrets_dir: must not be empty; inherit_env: must be true or false, got a string of 3 characters",
    );
    expect(() => localConfig.parse(bytes("[1]"))).toThrow(
      "local provider config is invalid: (root): must be an object, got an array",
    );
    expect(() => localConfig.parse(bytes("{"))).toThrow(/not valid JSON/);
  });
});
