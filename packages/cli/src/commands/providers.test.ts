import { describe, expect, it } from "vitest";
import { capturedIo } from "../fixtures/streams.js";
import { providersCommand } from "./providers.js";

describe("providersCommand", () => {
  it("starts the built-in local provider and lists its services", async () => {
    const io = capturedIo();
    expect(await providersCommand({ json: true }, io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual([
      { name: "local", default: true, version: expect.any(String), services: ["IaCProviderRunner", "RegionLister"] },
    ]);
  }, 60_000);

  it("fails on a config file that does not exist", async () => {
    await expect(providersCommand({ config: "/nonexistent/flotilla.yaml" }, capturedIo())).rejects.toThrow(
      /the file does not exist/,
    );
  });
});
