import { describe, expect, it } from "vitest";
import { capturedIo } from "../fixtures/streams.js";
import { regionsCommand } from "./regions.js";

describe("regionsCommand", () => {
  it("lists the local provider's region as JSON", async () => {
    const io = capturedIo();
    expect(await regionsCommand("local", { json: true }, io)).toBe(0);
    expect(JSON.parse(io.out())).toEqual([expect.objectContaining({ id: "local", available: true })]);
  }, 60_000);

  it("names the known providers for an unknown one", async () => {
    await expect(regionsCommand("gcp", {}, capturedIo())).rejects.toThrow(/provider "gcp" is not configured/);
  });
});
