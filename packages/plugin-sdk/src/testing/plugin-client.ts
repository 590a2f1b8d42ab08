/**
 * Test kit: a typed grpc-js client for one contract service of a plugin,
 * addressed from its handshake (Unix or TCP, plain or AutoMTLS).
 */

import type { DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import {
  type CertificatePair,
  errorFromServiceError,
  grpcServiceDefinition,
  type Handshake,
  isServiceError,
  pluginChannel,
} from "@flotilla/protocol/wire";
import {
  type CallOptions,
  type Client,
  type ClientReadableStream,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";

/** Per-call options. */
export interface CallOpts {
  /** Request metadata. */
  metadata?: Record<string, string>;
  /** Absolute deadline, or milliseconds from now. */
  deadline?: Date | number;
  /** Cancels the call when aborted. */
  signal?: AbortSignal;
}

/** Options of {@link pluginClient}. */
export interface PluginClientOptions {
  /** The client certificate the plugin got in PLUGIN_CLIENT_CERT; required when the handshake carries a server certificate. */
  tls?: CertificatePair;
  /** grpc-js channel options, e.g. max message sizes. */
  channelOptions?: Record<string, string | number>;
}

type Methods<S> = S extends GenService<infer M> ? M : never;

/** A typed client: `unary("listRegions", {...})`, `serverStream("jobLogs", {...})`. */
export interface PluginClient<S extends GenService<GenServiceMethods>> {
  /** Calls a unary method. */
  unary<K extends keyof Methods<S> & string>(
    method: K,
    request: MessageInitShape<Methods<S>[K]["input"]>,
    options?: CallOpts,
  ): Promise<MessageShape<Methods<S>[K]["output"]>>;
  /** Calls a server-streaming method and collects every response. */
  serverStream<K extends keyof Methods<S> & string>(
    method: K,
    request: MessageInitShape<Methods<S>[K]["input"]>,
    options?: CallOpts,
  ): AsyncIterable<MessageShape<Methods<S>[K]["output"]>>;
  /** The underlying grpc-js client. */
  raw: Client;
  /** Closes the channel. */
  close(): void;
}

function callOptions(options?: CallOpts): { metadata: Metadata; call: CallOptions } {
  const metadata = new Metadata();
  for (const [k, v] of Object.entries(options?.metadata ?? {})) metadata.set(k, v);
  const call: CallOptions = {};
  if (options?.deadline !== undefined) {
    call.deadline = typeof options.deadline === "number" ? Date.now() + options.deadline : options.deadline;
  }
  return { metadata, call };
}

/** A typed client for `service` of the plugin that printed `handshake`. */
export function pluginClient<S extends GenService<GenServiceMethods>>(
  handshake: Handshake,
  service: S,
  options: PluginClientOptions = {},
): PluginClient<S> {
  const Ctor = makeGenericClientConstructor(grpcServiceDefinition(service as DescService), service.typeName);
  // The channel a host opens: same address, same pinned AutoMTLS, same message limits.
  const channel = pluginChannel(handshake, options.tls);
  const raw = new Ctor(channel.target, channel.credentials, { ...channel.options, ...options.channelOptions });
  const method = (name: string): DescMethod => {
    const found = (service as DescService).methods.find((m) => m.localName === name);
    if (!found) throw new Error(`${service.typeName} has no method ${name}`);
    return found;
  };
  const fn = (name: string) => (raw as unknown as Record<string, (...args: unknown[]) => unknown>)[name]?.bind(raw);
  return {
    raw,
    close: () => raw.close(),
    unary(name, request, opts) {
      const m = method(name);
      const { metadata, call } = callOptions(opts);
      return new Promise((resolve, reject) => {
        const c = fn(name)?.(
          create(m.input, request as never),
          metadata,
          call,
          // The error class a host's provider client raises for the same status (NotFoundError, ...).
          (err: ServiceError | null, res: unknown) =>
            err ? reject(errorFromServiceError(err)) : resolve(res as never),
        ) as { cancel(): void };
        opts?.signal?.addEventListener("abort", () => c.cancel(), { once: true });
      });
    },
    serverStream(name, request, opts) {
      const m = method(name);
      const { metadata, call } = callOptions(opts);
      const stream = fn(name)?.(create(m.input, request as never), metadata, call) as ClientReadableStream<never>;
      opts?.signal?.addEventListener("abort", () => stream.cancel(), { once: true });
      return (async function* () {
        try {
          yield* stream as AsyncIterable<never>;
        } catch (err) {
          throw isServiceError(err) ? errorFromServiceError(err) : err;
        } finally {
          stream.cancel();
        }
      })();
    },
  };
}
