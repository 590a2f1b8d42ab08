#!/usr/bin/env node
/**
 * The local provider plugin's executable: started by a Flotilla host (or any
 * go-plugin host), it serves the local provider over gRPC until the host
 * stops it.
 */
import { serve } from "@flotilla/plugin-sdk";
import { ProcessGroupWatchdog } from "@flotilla/process";
import { createLocalPlugin } from "./definition.js";

// A second between the watchdog's SIGTERM and SIGKILL: a job's own clean-up gets a moment to run.
const { definition, runner } = createLocalPlugin(process.env, new ProcessGroupWatchdog({ graceMs: 1000 }));

// Jobs run in their own process groups so cancel can reach their children;
// that also means they would outlive the plugin. A graceful shutdown stops
// them with SIGTERM first (the definition's onShutdown hook); whatever is
// still running when the process exits, however it exits, is SIGKILLed here
// as the last resort; the watchdog covers deaths that run no exit hook (SIGKILL).
process.on("exit", () => runner.killAllNow());

await serve(definition);
