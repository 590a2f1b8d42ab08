// Tests of this plugin's own rules, served inside the test process (fast; no build needed).
import { IaCProviderRunnerService, InvalidArgumentError } from "@flotilla/plugin-sdk";
import { servePluginInProcess } from "@flotilla/plugin-sdk/testing";
import { expect, it } from "vitest";
import { createPlugin } from "./plugin.js";

it("refuses an EXIT_CODE that is not a number, naming the field", async () => {
  const plugin = await servePluginInProcess(createPlugin());
  try {
    const runner = plugin.client(IaCProviderRunnerService);
    const run = runner.unary("runJob", { spec: { command: ["hi"], env: { EXIT_CODE: "x" } } });
    await expect(run).rejects.toThrow(InvalidArgumentError);
    await expect(run).rejects.toThrow(/spec\.env\.EXIT_CODE/);
  } finally {
    await plugin.close();
  }
});
