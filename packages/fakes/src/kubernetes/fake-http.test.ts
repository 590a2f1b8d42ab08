import { afterEach, describe, expect, it } from "vitest";
import { closeFakeServer, FaultPlan, type RecordedRequest, sendJson, startFakeServer } from "./fake-http.js";

describe("startFakeServer", () => {
  let close: () => Promise<void> = async () => {};
  afterEach(() => close());

  it("records requests, applies throttling by method and answers the rest", async () => {
    const faults = new FaultPlan();
    const requests: RecordedRequest[] = [];
    const { server, url } = await startFakeServer(
      (_request, parsed, body, response) => sendJson(response, 200, { path: parsed.pathname, body }),
      faults,
      requests,
    );
    close = () => closeFakeServer(server);
    faults.throttleNext(1, 3, "POST");
    expect((await fetch(`${url}/a`)).status).toBe(200);
    const throttled = await fetch(`${url}/b`, { method: "POST", body: "x" });
    expect([throttled.status, throttled.headers.get("retry-after")]).toEqual([429, "3"]);
    expect(await (await fetch(`${url}/c`, { method: "POST", body: "y" })).json()).toEqual({ path: "/c", body: "y" });
    expect(requests.map((r) => `${r.method} ${r.url} ${r.body}`)).toEqual(["GET /a ", "POST /b x", "POST /c y"]);
  });

  it("counts lost create responses down", () => {
    const faults = new FaultPlan();
    faults.loseNextCreateResponses(2);
    expect([faults.takeLostCreate(), faults.takeLostCreate(), faults.takeLostCreate()]).toEqual([true, true, false]);
  });
});
