/**
 * plugin.GRPCController: Shutdown answers at once, then starts the graceful
 * shutdown, so the host's call is not cut off by the server it stopped.
 */
import { create } from "@bufbuild/protobuf";
import { goplugin } from "@flotilla/protocol/wire";
import type { ServerUnaryCall, sendUnaryData, UntypedServiceImplementation } from "@grpc/grpc-js";

/** grpc-js handlers for plugin.GRPCController; `onShutdown` runs after the reply is sent. */
export function controllerHandlers(onShutdown: () => void): UntypedServiceImplementation {
  return {
    shutdown: (_call: ServerUnaryCall<unknown, unknown>, callback: sendUnaryData<unknown>) => {
      callback(null, create(goplugin.EmptySchema));
      setImmediate(onShutdown);
    },
  };
}
