import { MAGIC_COOKIE } from "@flotilla/protocol/wire";
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

describe("magic cookie message", () => {
  it("is three lines: what this is, how to run it, and which variable was missing", () => {
    expect(missingCookieMessage("aws").split("\n")).toEqual([
      "aws: this is a Flotilla provider plugin, not a program to run by hand.",
      "Run it through a Flotilla host, e.g. `flotilla plugin inspect -- <command>`.",
      `(The host sets ${MAGIC_COOKIE.key}; it was missing or wrong in this environment.)`,
    ]);
  });
});
