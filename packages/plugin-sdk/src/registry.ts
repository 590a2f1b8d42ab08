/**
 * Turns a PluginDefinition into the exact set of services to serve and the
 * ContractRegistry describing them. Both come from the same list, so the
 * registry cannot advertise a service that is not served, nor omit one that is.
 */
import { create, type DescService } from "@bufbuild/protobuf";
import {
  type ContractRegistry,
  ContractRegistrySchema,
  IaCProviderService,
  type OptionalServiceKey,
  optionalServiceByKey,
} from "@flotilla/protocol";
import { ConfigState } from "./configured.js";
import type { PluginDefinition } from "./definition.js";
import { SDK_NAME_AND_VERSION } from "./sdk-version.js";
import { PluginStartupError } from "./startup-error.js";

/** One service to serve: its descriptor and the author's handlers, keyed by method localName. */
export interface ServiceRegistration {
  /** The protobuf-es service descriptor. */
  service: DescService;
  /** Handlers by method localName (camelCase). */
  handlers: Record<string, (...args: never[]) => unknown>;
}

/** What the server registers, and what the registry says about it. */
export interface PluginRegistration<Config = unknown> {
  /** The contract services to serve: provider first, then the optional ones given. */
  services: ServiceRegistration[];
  /** The registry returned by ContractRegistryService.GetContractRegistry. */
  registry: ContractRegistry;
  /** The plugin's config: what `context.config` reads, and the secrets to mask. */
  config: ConfigState<Config>;
}

const PLUGIN_NAME = /^[a-z][a-z0-9-]*$/;

function missingMethods(service: DescService, impl: object): string[] {
  return service.methods
    .filter((m) => typeof (impl as Record<string, unknown>)[m.localName] !== "function")
    .map((m) => m.localName);
}

function schemaJson(schema: unknown, field: string): string {
  if (schema === undefined) return "";
  try {
    return JSON.stringify(schema);
  } catch (err) {
    throw new PluginStartupError(`${field} cannot be serialised to JSON: ${(err as Error).message}`);
  }
}

/**
 * Validates the definition and lists what to serve. Every problem found is
 * reported at once, naming the service, the missing methods and the fix.
 */
export function buildRegistration<Config>(
  definition: PluginDefinition<Config>,
  protocolVersion: number,
): PluginRegistration<Config> {
  const problems: string[] = [];
  if (!PLUGIN_NAME.test(definition.name ?? "")) {
    problems.push(
      `plugin name ${JSON.stringify(definition.name)} is invalid: use lower case letters, digits and dashes, starting with a letter`,
    );
  }
  if (!definition.version) problems.push("plugin version is empty: set `version` to the plugin's semver, e.g. 1.0.0");
  if (definition.config !== undefined && definition.configSchema !== undefined) {
    problems.push(
      "both `config` and `configSchema` are set: declare the config once, as `config` (defineConfig), and drop `configSchema`",
    );
  }
  if (definition.config === undefined && typeof definition.provider?.configure !== "function") {
    problems.push(
      "`provider.configure` is missing: implement IaCProviderService.configure, or declare `config` (defineConfig) and the SDK checks and keeps the config itself",
    );
  }
  const config = new ConfigState(definition.name, definition.config);

  const name = definition.name;
  const version = definition.version;
  const provider = {
    describe: () => ({ name, version, capabilities: [] }),
    ...definition.provider,
    configure: config.configureHandler(definition.provider?.configure),
  };
  const services: ServiceRegistration[] = [
    { service: IaCProviderService, handlers: provider as ServiceRegistration["handlers"] },
  ];
  const advertised: string[] = [];
  for (const [key, service] of Object.entries(optionalServiceByKey)) {
    const impl = definition[key as OptionalServiceKey];
    if (impl === undefined || impl === null) continue;
    const missing = missingMethods(service, impl);
    if (missing.length > 0) {
      problems.push(
        `\`${key}\` (${service.typeName}) is missing ${missing.join(", ")}: implement every method of the service, ` +
          `or leave \`${key}\` out so the service is not advertised`,
      );
      continue;
    }
    services.push({ service, handlers: impl as unknown as ServiceRegistration["handlers"] });
    advertised.push(service.typeName);
  }
  if (definition.conformanceJobs && !definition.runner) {
    problems.push("`conformanceJobs` is given without a `runner`: leave it out, or implement the runner it exercises");
  }
  if (problems.length > 0) {
    throw new PluginStartupError(`plugin ${JSON.stringify(name)} cannot start:\n  - ${problems.join("\n  - ")}`);
  }
  const registry = create(ContractRegistrySchema, {
    pluginName: name,
    pluginVersion: version,
    protocolVersion,
    services: advertised,
    configSchemaJson: definition.config
      ? schemaJson(definition.config.schema, "config.schema")
      : schemaJson(definition.configSchema, "configSchema"),
    targetSchemaJson: schemaJson(definition.targetSchema, "targetSchema"),
    sdk: SDK_NAME_AND_VERSION,
    ...(definition.conformanceJobs ? { conformanceJobs: definition.conformanceJobs } : {}),
  });
  return { services, registry, config };
}
