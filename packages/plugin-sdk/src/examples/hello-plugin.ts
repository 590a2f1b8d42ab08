import { defineConfig, sensitive, serve } from "@flotilla/plugin-sdk";

// Declared once, as JSON Schema: the registry publishes it (so the host rejects a bad
// config early), Configure checks against it, and every handler reads the typed result.
const config = defineConfig({
  what: "hello provider config",
  schema: {
    type: "object",
    additionalProperties: false,
    properties: {
      greeting: { type: "string", minLength: 1, default: "hello" },
      // A secret: published as writeOnly, and never shown in logs or errors.
      apiKey: sensitive({ type: "string", minLength: 8 }),
    },
  },
});

await serve({
  name: "hello",
  version: "1.0.0",
  config,
  provider: {
    configure(_request, { config, logger }) {
      logger.info("configured", { config }); // apiKey comes out as "[redacted]"
      return {};
    },
  },
  // Implementing a service is what advertises it; leave it out and it is not.
  regionLister: {
    async listRegions(_request, { config, signal }) {
      signal.throwIfAborted();
      return { regions: [{ id: "earth", displayName: `${config.greeting}, Earth`, available: true }] };
    },
  },
});
