/**
 * The protobuf definitions the GCP fake serves, loaded from the `.proto` files
 * that ship inside the official client packages, so the fake speaks exactly
 * the wire format the installed clients speak:
 *
 * - `@google-cloud/run` → `build/protos/google/cloud/run/v2/*.proto`;
 * - `@google-cloud/logging` → its `@google-cloud/logging-api` dependency →
 *   `build/protos/google/logging/v2/logging.proto`;
 * - google-gax (the clients' shared runtime) → `google/longrunning`,
 *   `google/cloud/location`, `google/rpc`, `google/api` and the well-known
 *   types.
 *
 * Each package is resolved from the one that depends on it, so the fake reads
 * the protos of the very versions the clients load, not copies that could drift.
 */
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import type { ServiceDefinition } from "@grpc/grpc-js";
import { type GrpcObject, loadPackageDefinition, type ServiceClientConstructor } from "@grpc/grpc-js";
import { loadSync, type PackageDefinition } from "@grpc/proto-loader";

/** How messages look in the fake's handlers: camelCase fields, enums by name, int64 as strings. */
const loaderOptions = {
  keepCase: false,
  longs: String,
  enums: String,
  defaults: false,
  oneofs: true,
  arrays: true,
} as const;

const protoFiles = [
  "google/cloud/run/v2/job.proto",
  "google/cloud/run/v2/execution.proto",
  "google/cloud/run/v2/task.proto",
  "google/cloud/run/v2/service.proto",
  "google/longrunning/operations.proto",
  "google/cloud/location/locations.proto",
  "google/logging/v2/logging.proto",
];

/** The folder of package `name` as `resolveFrom` sees it (found from its entry point: not every package exports ./package.json). */
function packageRoot(resolveFrom: NodeJS.Require, name: string): string {
  let dir = dirname(resolveFrom.resolve(name));
  while (!existsSync(join(dir, "package.json")) || !dir.endsWith(join("node_modules", name))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`the GCP fake cannot find the folder of ${name}`);
    dir = parent;
  }
  return dir;
}

/** The include directories: the `build/protos` folders of the client packages and of google-gax. */
export function protoIncludeDirs(): string[] {
  const here = createRequire(import.meta.url);
  const runRoot = packageRoot(here, "@google-cloud/run");
  const loggingRoot = packageRoot(here, "@google-cloud/logging");
  const loggingApiRoot = packageRoot(createRequire(join(loggingRoot, "package.json")), "@google-cloud/logging-api");
  const gaxRoot = packageRoot(createRequire(join(runRoot, "package.json")), "google-gax");
  return [runRoot, loggingApiRoot, gaxRoot].map((root) => join(root, "build", "protos"));
}

let loaded: PackageDefinition | undefined;

/** The package definition of every service the fake serves (loaded once per process). */
export function gcpPackageDefinition(): PackageDefinition {
  loaded ??= loadSync(protoFiles, { ...loaderOptions, includeDirs: protoIncludeDirs() });
  return loaded;
}

/** The gRPC service definition of a fully qualified service, e.g. "google.cloud.run.v2.Jobs". */
export function serviceDefinition(fullName: string): ServiceDefinition {
  let node: GrpcObject | ServiceClientConstructor = loadPackageDefinition(gcpPackageDefinition());
  for (const part of fullName.split(".")) node = (node as GrpcObject)[part] as GrpcObject | ServiceClientConstructor;
  const service = (node as ServiceClientConstructor | undefined)?.service;
  if (!service) throw new Error(`the GCP fake has no proto for service ${fullName}`);
  return service;
}

/**
 * Encodes a message of a type some unary method returns, e.g. a Job as
 * `google.cloud.run.v2.Jobs/GetJob` returns it: the bytes a
 * `google.protobuf.Any` carries in a long-running operation's `metadata` and
 * `response`.
 */
export function encodeAs(service: string, method: string, message: object): Buffer {
  const definition = serviceDefinition(service)[method];
  if (!definition) throw new Error(`the GCP fake has no method ${service}/${method}`);
  return definition.responseSerialize(message);
}
