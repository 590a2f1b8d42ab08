import { serve } from "@flotilla/plugin-sdk";
import { Default, defineConfig, Sensitive, Type } from "@flotilla/plugin-sdk/config";

// Declared once: the registry publishes this schema (so the host rejects bad config
// early), Configure checks against it, and every handler reads the typed result.
const config = defineConfig({
  what: "hello provider config",
  schema: Type.Object(
    {
      greeting: Default(Type.String({ minLength: 1 }), "hello"),
      // A secret: published as writeOnly, and never shown in logs or errors.
      apiKey: Type.Optional(Sensitive(Type.String({ minLength: 8 }))),
    },
    { additionalProperties: false },
  ),
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
