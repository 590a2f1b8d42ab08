/**
 * plugin.GRPCStdio: what the plugin's own code writes to stdout and stderr
 * after the handshake (console.log, a library's warnings) travels to the host
 * over StreamStdio instead of corrupting the handshake channel. Output written
 * before the host connects is buffered, up to a bound, and sent on connect.
 */
import { create } from "@bufbuild/protobuf";
import { goplugin } from "@flotilla/protocol/wire";
import type { ServerWritableStream, UntypedServiceImplementation } from "@grpc/grpc-js";

const { StdioDataSchema, StdioData_Channel: Channel } = goplugin;

/** Which stream a chunk came from. */
export type StdioChannel = "stdout" | "stderr";

/** Most bytes kept while no host listens (older chunks are dropped first) or queued for a host that is not reading. */
export const MAX_BUFFERED_STDIO_BYTES = 1024 * 1024;

/** Collects stdout/stderr chunks and streams them to the host's StreamStdio call. */
export class StdioRelay {
  private buffered: { channel: StdioChannel; data: Uint8Array }[] = [];
  private bufferedBytes = 0;
  private droppedBytes = 0;
  private listener: ServerWritableStream<unknown, unknown> | undefined;
  private closed = false;

  /**
   * @param afterClose where output goes once the stream has ended (during a
   *   shutdown): serve() passes the real stdout/stderr, which hosts also read,
   *   so what in-flight handlers print while finishing is not lost.
   */
  constructor(private readonly afterClose?: (channel: StdioChannel, data: Uint8Array) => void) {}

  /** Accepts one chunk written by the plugin's code. */
  push(channel: StdioChannel, chunk: string | Uint8Array): void {
    const data = typeof chunk === "string" ? Buffer.from(chunk) : chunk;
    if (this.closed) {
      this.afterClose?.(channel, data);
      return;
    }
    if (data.byteLength === 0) return;
    if (this.listener && !this.listener.cancelled) {
      // A host that stops reading must not make the plugin buffer without bound.
      if (this.listener.writableLength > MAX_BUFFERED_STDIO_BYTES) {
        this.droppedBytes += data.byteLength;
        return;
      }
      this.reportDrops(this.listener);
      this.send(this.listener, channel, data);
      return;
    }
    this.buffered.push({ channel, data });
    this.bufferedBytes += data.byteLength;
    while (this.bufferedBytes > MAX_BUFFERED_STDIO_BYTES && this.buffered.length > 1) {
      const dropped = this.buffered.shift();
      this.bufferedBytes -= dropped?.data.byteLength ?? 0;
      this.droppedBytes += dropped?.data.byteLength ?? 0;
    }
  }

  private send(call: ServerWritableStream<unknown, unknown>, channel: StdioChannel, data: Uint8Array): void {
    call.write(create(StdioDataSchema, { channel: channel === "stdout" ? Channel.STDOUT : Channel.STDERR, data }));
  }

  private reportDrops(call: ServerWritableStream<unknown, unknown>): void {
    if (this.droppedBytes === 0) return;
    this.send(call, "stderr", Buffer.from(`[${this.droppedBytes} bytes of plugin output dropped]\n`));
    this.droppedBytes = 0;
  }

  /** Ends the stream (shutdown): a graceful server stop would otherwise wait for it forever. */
  close(): void {
    this.closed = true;
    this.listener?.end();
    this.listener = undefined;
  }

  /** grpc-js handlers for plugin.GRPCStdio. A newer StreamStdio call replaces an older one. */
  handlers(): UntypedServiceImplementation {
    return {
      streamStdio: (call: ServerWritableStream<unknown, unknown>) => {
        if (this.closed) {
          call.end();
          return;
        }
        this.listener?.end();
        this.listener = call;
        call.on("cancelled", () => {
          if (this.listener === call) this.listener = undefined;
        });
        this.reportDrops(call);
        for (const { channel, data } of this.buffered) this.send(call, channel, data);
        this.buffered = [];
        this.bufferedBytes = 0;
      },
    };
  }
}

/** The streams {@link captureProcessStdio} redirects: the process's own unless a test passes others. */
export interface CapturedStreams {
  stdout: { write: NodeJS.WriteStream["write"] };
  stderr: { write: NodeJS.WriteStream["write"] };
}

/**
 * Redirects process.stdout/process.stderr writes into `relay` and returns
 * the original writers (for the handshake line and the logger) and an undo.
 */
export function captureProcessStdio(
  relay: StdioRelay,
  streams: CapturedStreams = process,
): {
  writeStdout: (s: string) => void;
  writeStderr: (s: string) => void;
  writeRaw: (channel: StdioChannel, data: Uint8Array) => void;
  restore(): void;
} {
  const stdoutWrite = streams.stdout.write.bind(streams.stdout);
  const stderrWrite = streams.stderr.write.bind(streams.stderr);
  const redirect =
    (channel: StdioChannel) =>
    (chunk: string | Uint8Array, encodingOrCallback?: unknown, callback?: unknown): boolean => {
      const data =
        typeof chunk === "string" && typeof encodingOrCallback === "string"
          ? Buffer.from(chunk, encodingOrCallback as BufferEncoding)
          : chunk;
      relay.push(channel, data);
      const done = typeof encodingOrCallback === "function" ? encodingOrCallback : callback;
      if (typeof done === "function") queueMicrotask(() => (done as () => void)());
      return true;
    };
  streams.stdout.write = redirect("stdout") as typeof process.stdout.write;
  streams.stderr.write = redirect("stderr") as typeof process.stderr.write;
  return {
    writeStdout: (s) => void stdoutWrite(s),
    writeRaw: (channel, data) => void (channel === "stdout" ? stdoutWrite(data) : stderrWrite(data)),
    writeStderr: (s) => void stderrWrite(s),
    restore() {
      streams.stdout.write = stdoutWrite;
      streams.stderr.write = stderrWrite;
    },
  };
}
