import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import { isLeaseOwnerGone, newLeaseOwner } from "./lease-owner.js";

describe("lease owners", () => {
  it("name this machine and process, and differ between trackers of one process", () => {
    const owner = newLeaseOwner();
    expect(owner.startsWith(`${hostname()}/${process.pid}/`)).toBe(true);
    expect(newLeaseOwner()).not.toBe(owner);
  });

  it("are gone when their process on this machine is", () => {
    expect(isLeaseOwnerGone(`${hostname()}/4242/ab12`, () => false)).toBe(true);
    expect(isLeaseOwnerGone(`${hostname()}/4242/ab12`, () => true)).toBe(false);
  });

  it("are never judged gone when they run elsewhere, in this process, or are named otherwise", () => {
    expect(isLeaseOwnerGone("another-host/4242/ab12", () => false)).toBe(false);
    expect(isLeaseOwnerGone(`${hostname()}/${process.pid}/ab12`, () => false)).toBe(false);
    expect(isLeaseOwnerGone("replica-2", () => false)).toBe(false);
  });
});
