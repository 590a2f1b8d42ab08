import { PluginHost } from "@flotilla/host";
import { describe, expect, it } from "vitest";
import { providerDirectoryOf } from "./plugin-host-directory.js";
import { providerRunnerFor } from "./provider-runner.js";

describe("providerDirectoryOf", () => {
  it("lists the host's started plugins, and provider-ephemeral names them when the asked-for one is missing", async () => {
    const host = new PluginHost();
    try {
      const directory = providerDirectoryOf(host);
      expect(directory.providerNames()).toEqual([]);
      expect(() => providerRunnerFor(directory, "aws")).toThrow(
        'provider-ephemeral: provider "aws" is not configured; configured providers: none',
      );
    } finally {
      await host.stop();
    }
  });
});
