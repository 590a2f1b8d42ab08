import { MAGIC_COOKIE } from "@flotilla/protocol";
import { describe, expect, it } from "vitest";
import { hasMagicCookie, missingCookieMessage } from "./cookie.js";

describe("magic cookie", () => {
  it("is accepted only with the exact value", () => {
    expect(hasMagicCookie({ [MAGIC_COOKIE.key]: MAGIC_COOKIE.value })).toBe(true);
    expect(hasMagicCookie({ [MAGIC_COOKIE.key]: `${MAGIC_COOKIE.value} ` })).toBe(false);
    expect(hasMagicCookie({})).toBe(false);
  });

  it("explains, naming the plugin, how to run it instead", () => {
    const message = missingCookieMessage("aws");
    expect(message).toMatch(/^aws: this is a Flotilla provider plugin/);
    expect(message).toContain("flotilla plugin inspect -- <command>");
    expect(message).not.toContain(MAGIC_COOKIE.value);
  });
});
