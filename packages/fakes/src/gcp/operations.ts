/**
 * Long-running operations (google.longrunning.Operations) for the Cloud Run
 * fake. Cloud Run v2's CreateJob, DeleteJob, RunJob, CancelExecution and
 * Create/Update/DeleteService return an Operation whose `metadata` and
 * `response` are the Job, Execution or Service packed
 * in a `google.protobuf.Any` (job.proto / execution.proto / service.proto,
 * `google.longrunning.operation_info`); the client polls GetOperation until
 * `done`. Each operation here is a function of the fake's state, evaluated on
 * every poll, so it finishes when the thing it waits for does.
 */
import { randomUUID } from "node:crypto";
import { GcpApiError } from "./api-error.js";
import { decodePageToken, encodePageToken, requestScope } from "./paging.js";
import { encodeAs } from "./protos.js";

/** A message packed for an Operation: which Cloud Run type it is, and its fields. */
export interface PackedMessage {
  type: "Job" | "Execution" | "Service";
  message: object;
}

/** What an operation reports when polled. */
export interface OperationState {
  done: boolean;
  metadata: PackedMessage;
  response?: PackedMessage;
  error?: { code: number; message: string };
}

/** The wire shape of google.longrunning.Operation as the proto loader encodes it. */
export interface WireOperation {
  name: string;
  done: boolean;
  metadata: { typeUrl: string; value: Buffer };
  response?: { typeUrl: string; value: Buffer };
  error?: { code: number; message: string };
  result?: "response" | "error";
}

const typeUrls = {
  Job: "type.googleapis.com/google.cloud.run.v2.Job",
  Execution: "type.googleapis.com/google.cloud.run.v2.Execution",
  Service: "type.googleapis.com/google.cloud.run.v2.Service",
} as const;

/** A unary method that returns each packable type, whose response encoder packs it. */
const encoders = {
  Job: ["google.cloud.run.v2.Jobs", "GetJob"],
  Execution: ["google.cloud.run.v2.Executions", "GetExecution"],
  Service: ["google.cloud.run.v2.Services", "GetService"],
} as const;

function pack({ type, message }: PackedMessage): { typeUrl: string; value: Buffer } {
  const [service, method] = encoders[type];
  return { typeUrl: typeUrls[type], value: encodeAs(service, method, message) };
}

interface StoredOperation {
  name: string;
  parent: string;
  poll: () => OperationState;
  /** Once done, the final state is frozen: a finished operation never changes. */
  final?: OperationState;
}

/** The operations the fake has started, by name. */
export class FakeOperations {
  private readonly operations = new Map<string, StoredOperation>();

  /** Starts an operation under `parent` (projects/P/locations/L) and returns its first state. */
  start(parent: string, poll: () => OperationState): WireOperation {
    const name = `${parent}/operations/${randomUUID()}`;
    this.operations.set(name, { name, parent, poll });
    return this.get(name);
  }

  /** GetOperation. */
  get(name: string): WireOperation {
    const operation = this.operations.get(name);
    if (!operation) throw GcpApiError.notFound("Operation", name);
    return this.wire(operation);
  }

  /** ListOperations under a location, oldest first, paged. */
  list(parent: string, pageSize: number, pageToken: string): { operations: WireOperation[]; nextPageToken: string } {
    const scope = requestScope("ListOperations", parent);
    const start = pageToken ? decodePageToken<number>(pageToken, scope).cursor : 0;
    const size = pageSize > 0 ? Math.min(pageSize, 100) : 100;
    const all = [...this.operations.values()].filter((o) => o.parent === parent);
    const page = all.slice(start, start + size);
    const next = start + size < all.length ? encodePageToken(scope, { cursor: start + size, issuedAt: 0 }) : "";
    return { operations: page.map((o) => this.wire(o)), nextPageToken: next };
  }

  /** DeleteOperation: forgets the operation (not the resource it acted on). */
  delete(name: string): void {
    if (!this.operations.delete(name)) throw GcpApiError.notFound("Operation", name);
  }

  private wire(operation: StoredOperation): WireOperation {
    const state = operation.final ?? operation.poll();
    if (state.done) operation.final = state;
    return {
      name: operation.name,
      done: state.done,
      metadata: pack(state.metadata),
      ...(state.error
        ? { error: state.error, result: "error" as const }
        : state.response
          ? { response: pack(state.response), result: "response" as const }
          : {}),
    };
  }
}
