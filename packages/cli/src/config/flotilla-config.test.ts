import { describe, expect, it } from "vitest";
import { defaultProviderOf, LOCAL_PROVIDER } from "./flotilla-config.js";

describe("defaultProviderOf", () => {
  it("uses default_provider, else the built-in local provider", () => {
    expect(defaultProviderOf({ default_provider: "aws" })).toBe("aws");
    expect(defaultProviderOf({})).toBe(LOCAL_PROVIDER);
  });
});
