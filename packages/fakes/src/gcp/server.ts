/**
 * The GCP fake's gRPC server: one @grpc/grpc-js server on 127.0.0.1 serving
 * Cloud Run Admin API v2 (Jobs, Executions, Tasks, Services), google.longrunning
 * Operations, google.cloud.location Locations and Cloud Logging v2
 * (ListLogEntries, TailLogEntries), from the `.proto` files the official
 * clients ship.
 *
 * Why gRPC and not the REST fallback: gRPC is the clients' default transport,
 * so the fake exercises the code path production runs; and with
 * `sslCreds: grpc.credentials.createInsecure()` google-gax uses those channel
 * credentials *instead of* Google auth (google-gax `GrpcClient._getCredentials`
 * returns `opts.sslCreds` as is), so the clients need no token and no account.
 * The REST fallback always asks its auth client for request headers and
 * speaks HTTPS unless told otherwise, which would need a fake token server as
 * well. The clients also need `universeDomain` set (any value): without it
 * google-gax asks google-auth-library for the universe domain, which runs the
 * Application Default Credentials search and may probe the metadata server.
 */
import {
  Server as GrpcServer,
  type Server,
  ServerCredentials,
  type ServerDuplexStream,
  type ServerUnaryCall,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import { CallCounter } from "../aws/call-counter.js";
import { FakeClock } from "../aws/clock.js";
import { GcpApiError, GrpcStatus } from "./api-error.js";
import { GcpFaultInjector } from "./faults.js";
import { defaultFakeLocations, type FakeLocation } from "./locations.js";
import { FakeCloudLogging } from "./logging.js";
import { serviceDefinition } from "./protos.js";
import { FakeCloudRun } from "./run.js";
import { FakeCloudRunServices } from "./services.js";

type Json = Record<string, unknown>;

/** Options of {@link startFakeGcp}. */
export interface FakeGcpOptions {
  /** The locations Cloud Run knows (ListLocations answers them; CreateJob accepts them). Default: a representative set. */
  locations?: FakeLocation[];
}

/** A running GCP fake. */
export interface FakeGcp {
  /** The host to pass as the clients' `apiEndpoint`: "127.0.0.1". */
  readonly host: string;
  /** The port to pass as the clients' `port`. */
  readonly port: number;
  /** "127.0.0.1:PORT", for a gRPC target. */
  readonly address: string;
  /** The Cloud Run simulation: jobs, executions, tasks, locations, operations. */
  readonly run: FakeCloudRun;
  /** The Cloud Run services simulation. */
  readonly services: FakeCloudRunServices;
  /** The Cloud Logging simulation. */
  readonly logging: FakeCloudLogging;
  /** The fake's clock; advance it to move executions along. */
  readonly clock: FakeClock;
  /** Queued failures, by gRPC method name. */
  readonly faults: GcpFaultInjector;
  /** Calls received per gRPC method name (each client retry counts). */
  readonly calls: CallCounter;
  /** The `authorization` metadata of every call, in order ("" when a call carried none). */
  readonly authorizations: string[];
  /** Stops the server, ending open streams. */
  close(): Promise<void>;
}

/** Starts the GCP fake on 127.0.0.1 with an OS-chosen port. */
export async function startFakeGcp(options: FakeGcpOptions = {}): Promise<FakeGcp> {
  const clock = new FakeClock();
  const logging = new FakeCloudLogging(clock);
  const run = new FakeCloudRun(clock, logging, [...(options.locations ?? defaultFakeLocations)]);
  const services = new FakeCloudRunServices(clock, run);
  const faults = new GcpFaultInjector();
  const calls = new CallCounter();
  const authorizations: string[] = [];
  const closers = new Set<() => void>();

  function unary(method: string, handler: (request: Json) => unknown) {
    return (call: ServerUnaryCall<Json, unknown>, callback: sendUnaryData<unknown>) => {
      calls.record(method);
      authorizations.push(String(call.metadata.get("authorization")[0] ?? ""));
      try {
        const fault = faults.take(method);
        if (fault) throw fault;
        run.settle();
        callback(null, handler(call.request));
      } catch (err) {
        callback(toStatus(err));
      }
    };
  }

  const server: Server = new GrpcServer();
  server.addService(serviceDefinition("google.cloud.run.v2.Jobs"), {
    CreateJob: unary("CreateJob", (r) => run.createJob(r)),
    GetJob: unary("GetJob", (r) => run.getJob(r)),
    ListJobs: unary("ListJobs", (r) => run.listJobs(r)),
    UpdateJob: unary("UpdateJob", (r) => run.updateJob(r)),
    DeleteJob: unary("DeleteJob", (r) => run.deleteJob(r)),
    RunJob: unary("RunJob", (r) => run.runJob(r)),
  } satisfies UntypedServiceImplementation);
  server.addService(serviceDefinition("google.cloud.run.v2.Executions"), {
    GetExecution: unary("GetExecution", (r) => run.getExecution(r)),
    ListExecutions: unary("ListExecutions", (r) => run.listExecutions(r)),
    DeleteExecution: unary("DeleteExecution", (r) => run.deleteExecution(r)),
    CancelExecution: unary("CancelExecution", (r) => run.cancelExecution(r)),
  });
  server.addService(serviceDefinition("google.cloud.run.v2.Tasks"), {
    GetTask: unary("GetTask", (r) => run.getTask(r)),
    ListTasks: unary("ListTasks", (r) => run.listTasks(r)),
  });
  server.addService(serviceDefinition("google.cloud.run.v2.Services"), {
    CreateService: unary("CreateService", (r) => services.createService(r)),
    GetService: unary("GetService", (r) => services.getService(r)),
    ListServices: unary("ListServices", (r) => services.listServices(r)),
    UpdateService: unary("UpdateService", (r) => services.updateService(r)),
    DeleteService: unary("DeleteService", (r) => services.deleteService(r)),
  });
  server.addService(serviceDefinition("google.longrunning.Operations"), {
    GetOperation: unary("GetOperation", (r) => run.operations.get(String(r.name ?? ""))),
    // WaitOperation answers at once with the current state; the client polls again if it is not done.
    WaitOperation: unary("WaitOperation", (r) => run.operations.get(String(r.name ?? ""))),
    ListOperations: unary("ListOperations", (r) =>
      run.operations.list(String(r.name ?? ""), Number(r.pageSize ?? 0), String(r.pageToken ?? "")),
    ),
    DeleteOperation: unary("DeleteOperation", (r) => {
      run.operations.delete(String(r.name ?? ""));
      return {};
    }),
  });
  server.addService(serviceDefinition("google.cloud.location.Locations"), {
    ListLocations: unary("ListLocations", (r) => run.listLocations(r)),
    GetLocation: unary("GetLocation", (r) => run.getLocation(r)),
  });
  server.addService(serviceDefinition("google.logging.v2.LoggingServiceV2"), {
    ListLogEntries: unary("ListLogEntries", (r) => logging.list(r)),
    TailLogEntries: (call: ServerDuplexStream<Json, Json>) => {
      calls.record("TailLogEntries");
      authorizations.push(String(call.metadata.get("authorization")[0] ?? ""));
      let close: (() => void) | undefined;
      const finish = () => {
        close?.();
        if (close) closers.delete(close);
      };
      const fail = (err: unknown) => {
        finish();
        call.emit("error", toStatus(err));
      };
      call.once("data", (request: Json) => {
        try {
          const fault = faults.take("TailLogEntries");
          if (fault) throw fault;
          run.settle();
          close = logging.openTail(request, { send: (entries) => call.write({ entries }), fail }, () => run.settle());
          closers.add(close);
        } catch (err) {
          fail(err);
        }
      });
      call.on("cancelled", finish);
      call.on("end", () => {
        finish();
        call.end();
      });
      call.on("error", finish);
    },
  });

  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (err, bound) =>
      err ? reject(err) : resolve(bound),
    ),
  );
  return {
    host: "127.0.0.1",
    port,
    address: `127.0.0.1:${port}`,
    run,
    services,
    logging,
    clock,
    faults,
    calls,
    authorizations,
    close: async () => {
      for (const close of closers) close();
      closers.clear();
      server.forceShutdown();
    },
  };
}

function toStatus(err: unknown): { code: GrpcStatus; details: string } {
  if (err instanceof GcpApiError) return { code: err.code, details: err.message };
  return { code: GrpcStatus.INTERNAL, details: `fake bug: ${err instanceof Error ? err.stack : String(err)}` };
}
