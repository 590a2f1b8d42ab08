import { InvalidArgumentError } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { defaultLocalConfig, parseLocalConfig } from "./config.js";

const bytes = (text: string) => new TextEncoder().encode(text);

describe("parseLocalConfig", () => {
  it("applies defaults to empty config and reads every key", () => {
    expect(parseLocalConfig(new Uint8Array())).toEqual(defaultLocalConfig);
    expect(
      parseLocalConfig(
        bytes(
          '{"working_dir":"/tmp","max_log_lines":5,"kill_grace_ms":0,"inherit_env":false,"secrets_dir":"/s","state_dir":"/st","durable_jobs":true}',
        ),
      ),
    ).toEqual({
      workingDir: "/tmp",
      maxLogLines: 5,
      killGraceMs: 0,
      inheritEnv: false,
      secretsDir: "/s",
      stateDir: "/st",
      durableJobs: true,
    });
  });

  it("names the bad key and what it expects", () => {
    expect(() => parseLocalConfig(bytes('{"max_log_lines":0}'))).toThrow(InvalidArgumentError);
    expect(() => parseLocalConfig(bytes('{"max_log_lines":0}'))).toThrow(
      "local provider config: max_log_lines: must be >= 1",
    );
    expect(() => parseLocalConfig(bytes('{"colour":"red"}'))).toThrow(
      /^local provider config: colour: is not a known key; known keys are: working_dir, /,
    );
    expect(() => parseLocalConfig(bytes('{"secrets_dir":"","inherit_env":"yes"}'))).toThrow(
      "local provider config: secrets_dir: must not be empty; inherit_env: must be true or false, got a string of 3 characters",
    );
    expect(() => parseLocalConfig(bytes("[1]"))).toThrow(
      "local provider config: (root): must be an object, got an array",
    );
    expect(() => parseLocalConfig(bytes("{"))).toThrow(/not valid JSON/);
  });
});
