/**
 * Adapts an author's typed handlers to grpc-js: decodes requests with
 * protobuf-es (so a malformed request is INVALID_ARGUMENT with a message,
 * not grpc-js's opaque INTERNAL), hands each handler a HandlerContext whose
 * AbortSignal fires on cancellation, deadline or forced shutdown, builds
 * responses from plain objects, and turns thrown errors into statuses.
 */
import { create, type DescMethod, type DescService, fromBinary } from "@bufbuild/protobuf";
import {
  CanceledError,
  Code,
  DeadlineExceededError,
  isFlotillaError,
  toStatus,
  UnavailableError,
} from "@flotilla/protocol";
import { grpcMethodDefinition } from "@flotilla/protocol/wire";
import {
  Metadata,
  type MethodDefinition,
  type ServerErrorResponse,
  type ServerUnaryCall,
  type ServerWritableStream,
  type ServiceDefinition,
  type sendUnaryData,
  type UntypedServiceImplementation,
} from "@grpc/grpc-js";
import type { HandlerContext, PluginLogger } from "./definition.js";

/** What every wrapped handler needs from the server around it. */
export interface HandlerEnvironment {
  /** Aborted when a graceful shutdown runs out of time. */
  shutdownSignal: AbortSignal;
  /** Passed to handlers as `context.logger`. */
  logger: PluginLogger;
  /** What `context.config` reads (it may throw "not configured yet"); default undefined. */
  config?: () => unknown;
  /** Hides secrets in an error's message and metadata before they go to the caller; default none. */
  mask?: <T>(value: T) => T;
}

type AnyCall = ServerUnaryCall<Buffer, unknown> | ServerWritableStream<Buffer, unknown>;

/** A grpc-js error carrying a status code, message and trailing metadata. */
export function serviceError(code: number, details: string, metadata?: Record<string, string>): ServerErrorResponse {
  const md = new Metadata();
  for (const [k, v] of Object.entries(metadata ?? {})) {
    // gRPC metadata keys are lower case; binary keys need Buffers, so skip them rather than fail the call.
    const key = k.toLowerCase();
    if (!key.endsWith("-bin")) md.set(key, String(v));
  }
  return Object.assign(new Error(details), { code, details, metadata: md });
}

function errorToServiceError(err: unknown, env: HandlerEnvironment): ServerErrorResponse {
  const status = toStatus(err);
  const mask = env.mask ?? ((value) => value);
  return serviceError(status.code, mask(status.details), status.metadata && mask(status.metadata));
}

/**
 * What a handler's failure becomes once its signal fired: the signal's reason (deadline, cancel,
 * shutdown), unless the handler chose a status itself. An AbortError thrown by `once(..., { signal })` or
 * a cloud SDK is the abort's echo, not an INTERNAL failure.
 */
function failureOf(err: unknown, signal: AbortSignal): unknown {
  return signal.aborted && !isFlotillaError(err) && !isServiceError(err) ? signal.reason : err;
}

function metadataRecord(md: Metadata): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(md.getMap())) if (typeof v === "string") out[k] = v;
  return out;
}

/** Builds the context for one call and returns a disposer that detaches its listeners. */
function callContext(call: AnyCall, env: HandlerEnvironment): { context: HandlerContext; dispose(): void } {
  const controller = new AbortController();
  const rawDeadline = call.getDeadline();
  const deadline =
    rawDeadline instanceof Date ? rawDeadline : Number.isFinite(rawDeadline) ? new Date(rawDeadline) : undefined;
  // Each reason carries the status the call ends with if the handler stops because of it.
  const onCancel = () => controller.abort(new CanceledError("the caller cancelled the call"));
  const onShutdown = () => controller.abort(new UnavailableError("the plugin is shutting down"));
  call.on("cancelled", onCancel);
  env.shutdownSignal.addEventListener("abort", onShutdown, { once: true });
  if (env.shutdownSignal.aborted) onShutdown();
  // grpc-js ends the call at its deadline and emits "cancelled"; this timer
  // also covers a handler that started just before the deadline passed.
  const timer =
    deadline === undefined
      ? undefined
      : setTimeout(
          () => controller.abort(new DeadlineExceededError("the call's deadline passed")),
          Math.max(0, deadline.getTime() - Date.now()),
        );
  timer?.unref();
  const context: HandlerContext = {
    signal: controller.signal,
    deadline,
    metadata: metadataRecord(call.metadata),
    logger: env.logger,
    // A getter: a handler that never reads the config works before Configure too.
    get config() {
      return env.config?.();
    },
  };
  return {
    context,
    dispose() {
      call.removeListener("cancelled", onCancel);
      env.shutdownSignal.removeEventListener("abort", onShutdown);
      if (timer) clearTimeout(timer);
    },
  };
}

function decode(method: DescMethod, bytes: Buffer) {
  try {
    return fromBinary(method.input, bytes);
  } catch (err) {
    throw serviceError(
      Code.InvalidArgument,
      `request to ${method.parent.typeName}/${method.name} is not a valid ${method.input.typeName} message ` +
        `(${(err as Error).message}); the client must send the protobuf encoding of that message`,
    );
  }
}

function unary(method: DescMethod, handler: (...args: unknown[]) => unknown, env: HandlerEnvironment) {
  return (call: ServerUnaryCall<Buffer, unknown>, callback: sendUnaryData<unknown>) => {
    const { context, dispose } = callContext(call, env);
    (async () => {
      const request = decode(method, call.request);
      const response = await handler(request, context);
      return create(method.output, (response ?? {}) as never);
    })().then(
      (response) => {
        dispose();
        callback(null, response);
      },
      (thrown) => {
        dispose();
        const err = failureOf(thrown, context.signal);
        callback(isServiceError(err) ? err : errorToServiceError(err, env));
      },
    );
  };
}

function serverStreaming(method: DescMethod, handler: (...args: unknown[]) => unknown, env: HandlerEnvironment) {
  return (call: ServerWritableStream<Buffer, unknown>) => {
    const { context, dispose } = callContext(call, env);
    (async () => {
      const request = decode(method, call.request);
      const stream = handler(request, context) as AsyncIterable<unknown>;
      for await (const item of stream) {
        if (call.cancelled) break;
        const message = create(method.output, (item ?? {}) as never);
        // Respect HTTP/2 flow control: wait when the client reads slower than we
        // produce, but stop waiting if the call ends meanwhile (no drain comes then).
        if (!call.write(message)) await drainOrAbort(call, context.signal);
      }
    })().then(
      () => {
        dispose();
        if (call.cancelled) return;
        // A stream that stopped because its signal aborted is cut short, not complete: ending it OK would
        // tell a follower of a running job's log that the job ended and its log is drained.
        if (context.signal.aborted) call.emit("error", errorToServiceError(context.signal.reason, env));
        else call.end();
      },
      (thrown) => {
        dispose();
        const err = failureOf(thrown, context.signal);
        // grpc-js turns an "error" event on a server stream into the call's status.
        if (!call.cancelled) call.emit("error", isServiceError(err) ? err : errorToServiceError(err, env));
      },
    );
  };
}

function drainOrAbort(call: ServerWritableStream<Buffer, unknown>, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      call.off("drain", done);
      signal.removeEventListener("abort", done);
      resolve();
    };
    call.once("drain", done);
    signal.addEventListener("abort", done, { once: true });
    if (signal.aborted) done();
  });
}

function isServiceError(err: unknown): err is ServerErrorResponse {
  // A FlotillaError also has a numeric code and a metadata record; only our own grpc-js errors carry Metadata.
  return err instanceof Error && (err as { metadata?: unknown }).metadata instanceof Metadata;
}

/**
 * The grpc-js definition of `service` with requests left as raw bytes, so
 * {@link wrapHandlers} decodes them and can report a malformed one clearly.
 */
export function rawRequestServiceDefinition(service: DescService): ServiceDefinition {
  const definition: Record<string, MethodDefinition<unknown, unknown>> = {};
  for (const method of service.methods) {
    definition[method.localName] = { ...grpcMethodDefinition(method), requestDeserialize: (b: Buffer) => b };
  }
  return definition as ServiceDefinition;
}

/** grpc-js handlers for every method of `service`, from the author's handlers keyed by localName. */
export function wrapHandlers(
  service: DescService,
  handlers: Record<string, (...args: never[]) => unknown>,
  env: HandlerEnvironment,
): UntypedServiceImplementation {
  const impl: UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const handler = (handlers[method.localName] as (...args: unknown[]) => unknown).bind(handlers);
    if (method.methodKind === "unary") impl[method.localName] = unary(method, handler, env);
    else if (method.methodKind === "server_streaming") impl[method.localName] = serverStreaming(method, handler, env);
    else throw new Error(`${service.typeName}/${method.name}: ${method.methodKind} methods are not supported`);
  }
  return impl;
}
