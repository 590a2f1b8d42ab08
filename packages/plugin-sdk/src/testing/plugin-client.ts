/**
 * Test kit: a typed grpc-js client for one contract service of a plugin,
 * addressed from its handshake (Unix or TCP, plain or AutoMTLS).
 */

import { X509Certificate } from "node:crypto";
import type { DescMethod, DescService, MessageInitShape, MessageShape } from "@bufbuild/protobuf";
import { create } from "@bufbuild/protobuf";
import type { GenService, GenServiceMethods } from "@bufbuild/protobuf/codegenv2";
import { grpcServiceDefinition, type Handshake } from "@flotilla/protocol";
import {
  type CallOptions,
  type ChannelCredentials,
  type Client,
  type ClientReadableStream,
  credentials,
  Metadata,
  makeGenericClientConstructor,
  type ServiceError,
} from "@grpc/grpc-js";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../server.js";

/** Client-side TLS for AutoMTLS: the host's own certificate and key, PEM. */
export interface ClientTls {
  /** The client certificate, PEM (what the host put in PLUGIN_CLIENT_CERT). */
  certPem: string;
  /** Its private key, PEM. */
  keyPem: string;
}

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
  /** Required when the handshake carries a server certificate. */
  tls?: ClientTls;
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

/** The grpc-js address for a handshake. */
export function grpcTarget(handshake: Handshake): string {
  return handshake.network === "unix" ? `unix:${handshake.address}` : handshake.address;
}

/** Channel credentials for a handshake: insecure, or mTLS pinned to the handshake's server certificate. */
export function channelCredentials(handshake: Handshake, tls?: ClientTls): ChannelCredentials {
  if (!handshake.serverCertDer) return credentials.createInsecure();
  if (!tls)
    throw new Error(
      "the plugin serves TLS (its handshake has a server certificate); pass `tls` with the client certificate",
    );
  // Pin exactly the certificate the plugin printed: it is the only trusted root.
  const serverPem = new X509Certificate(Buffer.from(handshake.serverCertDer)).toString();
  return credentials.createSsl(Buffer.from(serverPem), Buffer.from(tls.keyPem), Buffer.from(tls.certPem));
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
  const raw = new Ctor(grpcTarget(handshake), channelCredentials(handshake, options.tls), {
    // The server certificate is issued to "localhost"; a Unix address has no host name to check.
    "grpc.ssl_target_name_override": "localhost",
    "grpc.default_authority": "localhost",
    // grpc-js clients accept only 4 MiB by default; match the plugin's limit.
    "grpc.max_receive_message_length": DEFAULT_MAX_MESSAGE_BYTES,
    "grpc.max_send_message_length": DEFAULT_MAX_MESSAGE_BYTES,
    ...options.channelOptions,
  });
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
          (err: ServiceError | null, res: unknown) => (err ? reject(err) : resolve(res as never)),
        ) as { cancel(): void };
        opts?.signal?.addEventListener("abort", () => c.cancel(), { once: true });
      });
    },
    serverStream(name, request, opts) {
      const m = method(name);
      const { metadata, call } = callOptions(opts);
      const stream = fn(name)?.(create(m.input, request as never), metadata, call) as ClientReadableStream<never>;
      opts?.signal?.addEventListener("abort", () => stream.cancel(), { once: true });
      return stream as AsyncIterable<never>;
    },
  };
}
