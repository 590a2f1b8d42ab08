import { create } from "@bufbuild/protobuf";
import {
  AlreadyExistsError,
  CreateResourceRequestSchema,
  DetectDriftRequestSchema,
  DiffResourceRequestSchema,
  InvalidArgumentError,
  NotFoundError,
  type ResourceRef,
  ScaleResourceRequestSchema,
  SensitiveKeysRequestSchema,
  UnimplementedError,
} from "@flotilla/protocol";
import { beforeEach, describe, expect, it } from "vitest";
import { diffConfig } from "./json-diff.js";
import {
  createDriftDetector,
  createResourceDriver,
  driftDetectingTypes,
  jsonBytes,
  type ResourceType,
  type ResourceTypes,
} from "./resource-driver.js";
import { handlerContext } from "./testing/in-process.js";

/** A resource type kept in memory: what a plugin author writes, here without a cloud behind it. */
function memoryType(name: string, withDrift: boolean) {
  const store = new Map<string, Record<string, unknown>>();
  const state = (ref: ResourceRef) => ({ ref, configJson: jsonBytes(store.get(ref.name)), status: "ok" });
  const get = (ref: ResourceRef) => {
    const config = store.get(ref.name);
    if (!config) throw new NotFoundError(`${name} ${ref.name} not found`);
    return config;
  };
  const type: ResourceType = {
    type: name,
    sensitiveKeys: ["/password"],
    async create(ref, config) {
      if (store.has(ref.name)) throw new AlreadyExistsError(`${ref.name} exists`);
      store.set(ref.name, config);
      return state(ref);
    },
    async read(ref) {
      get(ref);
      return state(ref);
    },
    async update(ref, config) {
      get(ref);
      store.set(ref.name, config);
      return state(ref);
    },
    async delete(ref) {
      store.delete(ref.name);
    },
    async diff(ref, desired) {
      return diffConfig(get(ref), desired, { sensitive: this.sensitiveKeys });
    },
    async health(ref) {
      get(ref);
      return { healthy: true, message: "fine" };
    },
    async scale(ref, replicas) {
      store.set(ref.name, { ...get(ref), replicas });
      return state(ref);
    },
    async troubleshoot() {
      return [];
    },
    ...(withDrift
      ? {
          async drift(ref: ResourceRef, desired: Record<string, unknown>) {
            const actual = store.get(ref.name);
            return actual ? { missing: false, changes: diffConfig(actual, desired) } : { missing: true, changes: [] };
          },
        }
      : {}),
  };
  return { type, store };
}

const context = handlerContext();
let memo: ReturnType<typeof memoryType>;
let resources: ResourceTypes;
beforeEach(() => {
  memo = memoryType("memo.entry", true);
  resources = { plugin: "memo", types: [memo.type, memoryType("memo.other", false).type] };
});
const ref = (name = "a", type = "memo.entry") => ({ type, name, providerId: "" });

describe("createResourceDriver", () => {
  it("dispatches by ResourceRef.type with the request's JSON config parsed", async () => {
    const driver = createResourceDriver(resources);
    await driver.createResource(
      create(CreateResourceRequestSchema, { ref: ref(), configJson: jsonBytes({ size: 1 }) }),
      context,
    );
    expect(memo.store.get("a")).toEqual({ size: 1 });
    const diff = await driver.diffResource(
      create(DiffResourceRequestSchema, { ref: ref(), desiredConfigJson: jsonBytes({ size: 2 }) }),
      context,
    );
    expect(diff.changed).toBe(true);
    expect(diff.changes).toEqual([expect.objectContaining({ path: "/size" })]);
    const keys = await driver.sensitiveKeys(create(SensitiveKeysRequestSchema, { type: "memo.entry" }), context);
    expect(keys.keys).toEqual(["/password"]);
  });

  it("names the known types for an unknown one, and asks for a name", async () => {
    const driver = createResourceDriver(resources);
    await expect(driver.readResource({ ref: ref("a", "s3.bucket") } as never, context)).rejects.toThrow(
      /"s3.bucket" is not a resource type the memo plugin knows; known types: memo.entry, memo.other/,
    );
    await expect(driver.readResource({ ref: ref("") } as never, context)).rejects.toThrow(/ResourceRef.name: required/);
  });

  it("refuses a config that is not a JSON object without quoting it", async () => {
    const driver = createResourceDriver(resources);
    const request = (text: string) =>
      create(CreateResourceRequestSchema, { ref: ref(), configJson: new TextEncoder().encode(text) });
    await expect(driver.createResource(request('{"password": hunter22}'), context)).rejects.toThrow(
      /CreateResourceRequest.config_json is not valid JSON; send a JSON object/,
    );
    await expect(driver.createResource(request('{"password": hunter22}'), context)).rejects.not.toThrow(/hunter22/);
    await expect(driver.createResource(request("[1]"), context)).rejects.toThrow(/must be a JSON object/);
  });

  it("scales to any int32 count and refuses one outside 0..2147483647 before calling the type", async () => {
    const driver = createResourceDriver(resources);
    memo.store.set("a", {});
    await driver.scaleResource(create(ScaleResourceRequestSchema, { ref: ref(), replicas: 2_147_483_647n }), context);
    expect(memo.store.get("a")).toEqual({ replicas: 2_147_483_647 });
    for (const replicas of [2_147_483_648n, -1n]) {
      const attempt = driver.scaleResource(create(ScaleResourceRequestSchema, { ref: ref(), replicas }), context);
      await expect(attempt).rejects.toBeInstanceOf(InvalidArgumentError);
    }
    expect(memo.store.get("a")).toEqual({ replicas: 2_147_483_647 });
  });
});

describe("createDriftDetector", () => {
  it("reports drift and a missing resource, and answers UNIMPLEMENTED for a type without drift", async () => {
    const detector = createDriftDetector(resources);
    const detect = (name: string, type = "memo.entry") =>
      detector.detectDrift(
        create(DetectDriftRequestSchema, { ref: ref(name, type), desiredConfigJson: jsonBytes({ size: 1 }) }),
        context,
      );
    memo.store.set("a", { size: 1 });
    memo.store.set("b", { size: 3 });
    expect(await detect("a")).toMatchObject({ drifted: false, missing: false, changes: [] });
    expect(await detect("b")).toMatchObject({ drifted: true, missing: false });
    expect(await detect("gone")).toMatchObject({ drifted: true, missing: true });
    await expect(detect("a", "memo.other")).rejects.toBeInstanceOf(UnimplementedError);
    await expect(detect("a", "memo.other")).rejects.toThrow(/detects drift for memo.entry, not for memo.other/);
    expect(driftDetectingTypes(resources)).toEqual(["memo.entry"]);
  });
});
