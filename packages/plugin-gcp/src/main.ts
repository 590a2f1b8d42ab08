#!/usr/bin/env node
/**
 * The GCP plugin executable: a host starts it (`node dist/main.js`) and talks
 * to it over gRPC. Started by hand, `serve()` prints that it is a plugin and
 * exits non-zero.
 */
import { serve } from "@flotilla/plugin-sdk";
import { createGcpPlugin } from "./plugin.js";

await serve(createGcpPlugin().definition);
