/**
 * The plugin the bench starts through the real host: built with the plugin
 * SDK's `serve()`, answering Describe with the bench's 64-byte response, so
 * host→plugin calls compare like for like with the library pairs.
 */
import { serve } from "@flotilla/plugin-sdk";
import { benchDescribeResponse } from "./payload.js";

await serve({
  name: "bench",
  version: "1.0.0",
  provider: {
    configure: () => ({}),
    describe: () => benchDescribeResponse,
  },
});
