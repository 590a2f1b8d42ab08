import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { FakeArgo } from "@flotilla/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ArgoApiError, ArgoClient } from "./argo-client.js";

describe("ArgoClient", () => {
  let fake: FakeArgo;
  let client: ArgoClient;
  beforeAll(async () => {
    fake = await new FakeArgo().start();
    client = new ArgoClient({ baseUrl: fake.url, retryPolicy: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 50 } });
  });
  afterAll(async () => {
    await fake.close();
  });

  it("lists an empty selection (items: null on the wire) as an empty array, and deleting a missing workflow is no error", async () => {
    expect(await client.listWorkflows("argo", "app=none")).toEqual([]);
    await expect(client.deleteWorkflow("argo", "never-existed")).resolves.toBeUndefined();
  });

  it("reports an error answer with its status and the server's message", async () => {
    const error = await client.getWorkflow("argo", "missing").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ArgoApiError);
    expect((error as ArgoApiError).status).toBe(404);
    expect((error as Error).message).toBe(
      'Argo server: GET /api/v1/workflows/argo/missing failed with HTTP 404: workflows.argoproj.io "missing" not found',
    );
  });

  it("sends a token that carries its scheme (`argo auth token`, $ARGO_TOKEN) as it is, and adds Bearer to a bare one", async () => {
    const guarded = await new FakeArgo({ token: "v2:abc.def" }).start();
    try {
      const withScheme = new ArgoClient({ baseUrl: guarded.url, token: "Bearer v2:abc.def" });
      await expect(withScheme.listWorkflows("argo", "app=none")).resolves.toEqual([]);
      const bare = new ArgoClient({ baseUrl: guarded.url, token: "v2:abc.def" });
      await expect(bare.listWorkflows("argo", "app=none")).resolves.toEqual([]);
      expect(guarded.requests.map((r) => r.headers.authorization)).toEqual(["Bearer v2:abc.def", "Bearer v2:abc.def"]);
      const wrong = new ArgoClient({ baseUrl: guarded.url, token: "Bearer other" });
      await expect(wrong.listWorkflows("argo", "app=none")).rejects.toMatchObject({ status: 401 });
    } finally {
      await guarded.close();
    }
  });

  describe("log streams", () => {
    let server: Server;
    let url: string;
    beforeAll(async () => {
      // The server ends a log stream with an error entry, as grpc-gateway does when the stream fails midway.
      server = createServer((_request, response) => {
        response.writeHead(200, { "content-type": "application/json" });
        response.write('{"result":{"content":"first","podName":"p"}}\n{"result":{"content":"sec');
        setTimeout(() => response.end('ond","podName":"p"}}\n{"error":{"grpc_code":2,"message":"pod deleted"}}\n'), 20);
      });
      await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    });
    afterAll(async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    });

    it("yields each entry's content across chunk boundaries and throws on an error entry", async () => {
      const seen: string[] = [];
      const reading = (async () => {
        for await (const line of new ArgoClient({ baseUrl: url }).logs("argo", "w", "main", true)) seen.push(line);
      })();
      await expect(reading).rejects.toThrow("Argo log stream error: pod deleted");
      expect(seen).toEqual(["first", "second"]);
    });
  });
});
