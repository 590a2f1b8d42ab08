import * as contract from "@flotilla/protocol";
import * as wire from "@flotilla/protocol/wire";
import { describe, expect, it } from "vitest";
import * as sdk from "./index.js";
import * as testing from "./testing/index.js";

describe("the SDK's entry point", () => {
  it("re-exports the contract, never how it travels: nothing of @flotilla/protocol/wire", () => {
    expect(Object.keys(sdk).filter((name) => name in wire)).toEqual([]);
  });

  it("leaves the host's side of the error model to the host and the SDK's internals inside", () => {
    for (const name of ["toStatus", "fromStatus", "errorForCode", "fromJobError", "hostv1"]) {
      expect(name in contract, name).toBe(true);
      expect(name in sdk, name).toBe(false);
    }
    for (const name of ["StdioRelay", "STDIN_LIFELINE_ENV", "NETWORK_ENV", "startPluginServer"]) {
      expect(name in sdk, name).toBe(false);
    }
  });

  it("offers the server without process state in the test kit, with the test kit's other tools", () => {
    expect(Object.keys(testing)).toEqual(
      expect.arrayContaining(["startPluginServer", "servePluginInProcess", "spawnPlugin", "pluginClient"]),
    );
  });
});
