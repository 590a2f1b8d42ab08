/**
 * Connects `provider-ephemeral` to the plugin manager: the host's started
 * plugins are the providers, and a provider's runner is providerclient's
 * `runner()` accessor (undefined when the plugin's registry does not list
 * IaCProviderRunner). Assigning RunnerClient to ProviderJobRunner here is
 * also the compile-time check that the two agree.
 */
import type { PluginHost } from "@flotilla/host";
import type { ProviderDirectory, ProviderJobRunner } from "./provider-job-runner.js";

/** The ProviderDirectory of a running PluginHost. */
export function providerDirectoryOf(host: Pick<PluginHost, "list" | "provider">): ProviderDirectory {
  return {
    providerNames: () => host.list().map((plugin) => plugin.name),
    runnerOf: (name): ProviderJobRunner | undefined => host.provider(name).runner(),
  };
}
