/**
 * grpc.health.v1.Health: SERVING for "" (the whole server), "plugin" (what
 * go-plugin hosts ask) and every service the plugin serves; NOT_SERVING once
 * a shutdown has begun; NOT_FOUND for anything else, as the health spec says.
 */
import { create } from "@bufbuild/protobuf";
import { Code } from "@flotilla/protocol";
import { HEALTH_SERVICE_NAME, health } from "@flotilla/protocol/wire";
import type { ServerUnaryCall, ServerWritableStream, sendUnaryData, UntypedServiceImplementation } from "@grpc/grpc-js";
import { serviceError } from "./handlers.js";

const { HealthCheckResponseSchema, HealthCheckResponse_ServingStatus: ServingStatus } = health;

/** The health service's state and its grpc-js handlers. */
export class HealthService {
  private readonly known: Set<string>;
  private serving = true;
  private readonly watchers = new Set<ServerWritableStream<health.HealthCheckRequest, unknown>>();

  /** @param serviceNames fully qualified names of the services served. */
  constructor(serviceNames: readonly string[]) {
    this.known = new Set(["", HEALTH_SERVICE_NAME, ...serviceNames]);
  }

  private status() {
    return this.serving ? ServingStatus.SERVING : ServingStatus.NOT_SERVING;
  }

  /** Reports NOT_SERVING from now on and ends every Watch stream, so a graceful shutdown is not held open. */
  markShuttingDown(): void {
    this.serving = false;
    for (const call of this.watchers) {
      call.write(create(HealthCheckResponseSchema, { status: ServingStatus.NOT_SERVING }));
      call.end();
    }
    this.watchers.clear();
  }

  /** grpc-js handlers for grpc.health.v1.Health. */
  handlers(): UntypedServiceImplementation {
    return {
      check: (call: ServerUnaryCall<health.HealthCheckRequest, unknown>, callback: sendUnaryData<unknown>) => {
        const name = call.request.service;
        if (!this.known.has(name)) {
          callback(serviceError(Code.NotFound, `unknown service ${JSON.stringify(name)}`));
          return;
        }
        callback(null, create(HealthCheckResponseSchema, { status: this.status() }));
      },
      watch: (call: ServerWritableStream<health.HealthCheckRequest, unknown>) => {
        const name = call.request.service;
        const status = this.known.has(name) ? this.status() : ServingStatus.SERVICE_UNKNOWN;
        call.write(create(HealthCheckResponseSchema, { status }));
        if (!this.serving) {
          call.end();
          return;
        }
        this.watchers.add(call);
        call.on("cancelled", () => this.watchers.delete(call));
      },
    };
  }
}
