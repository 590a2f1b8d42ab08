import { describe, expect, it } from "vitest";
import { defaultFakeLocations } from "./locations.js";

describe("defaultFakeLocations", () => {
  it("are distinct Cloud Run region ids with display names", () => {
    const ids = defaultFakeLocations.map((l) => l.locationId);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toContain("us-central1");
    expect(defaultFakeLocations.every((l) => /^[a-z]+-[a-z]+\d+$/.test(l.locationId) && l.displayName.length > 0)).toBe(
      true,
    );
  });
});
