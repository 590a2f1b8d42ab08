// The plugin's executable: a host starts `node dist/main.js` and talks to it over gRPC.
// Run it by hand and it says that it must be started through a host.
import { serve } from "@flotilla/plugin-sdk";
import { createPlugin } from "./plugin.js";

await serve(createPlugin());
