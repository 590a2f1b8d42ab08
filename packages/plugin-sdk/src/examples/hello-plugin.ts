import { InvalidArgumentError, serve } from "@flotilla/plugin-sdk";

await serve({
  name: "hello",
  version: "1.0.0",
  // Published in the ContractRegistry, so the host can reject bad config early.
  configSchema: {
    type: "object",
    properties: { greeting: { type: "string" } },
    additionalProperties: false,
  },
  provider: {
    async configure(request, { logger }) {
      const text = new TextDecoder().decode(request.configJson) || "{}";
      const config = JSON.parse(text) as { greeting?: unknown };
      if (config.greeting !== undefined && typeof config.greeting !== "string") {
        throw new InvalidArgumentError('config.greeting must be a string, e.g. "hi"');
      }
      logger.info("configured", { greeting: config.greeting ?? "hello" });
      return {};
    },
  },
  // Implementing a service is what advertises it; leave it out and it is not.
  regionLister: {
    async listRegions(_request, { signal }) {
      signal.throwIfAborted();
      return { regions: [{ id: "earth", displayName: "Earth", available: true }] };
    },
  },
});
