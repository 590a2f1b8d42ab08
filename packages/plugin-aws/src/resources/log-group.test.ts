import { create } from "@bufbuild/protobuf";
import {
  AlreadyExistsError,
  CheckResourceHealthRequestSchema,
  CreateResourceRequestSchema,
  DeleteResourceRequestSchema,
  DiffResourceRequestSchema,
  InvalidArgumentError,
  NotFoundError,
  ReadResourceRequestSchema,
  ScaleResourceRequestSchema,
  UpdateResourceRequestSchema,
} from "@flotilla/protocol";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { type AwsHarness, startAwsHarness } from "../fixtures/harness.js";

let h: AwsHarness;
const ref = { type: "logs.log-group", name: "/flotilla/jobs" };
const json = (value: unknown) => new TextEncoder().encode(JSON.stringify(value));
const parse = (bytes: Uint8Array | undefined) => JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>;

beforeEach(async () => {
  h = await startAwsHarness();
});
afterEach(async () => {
  await h.close();
});

describe("logs.log-group", () => {
  it("creates with a retention, reads, updates the retention in place and deletes", async () => {
    const created = await h.driver.createResource(
      create(CreateResourceRequestSchema, { ref, configJson: json({ retentionInDays: 30 }) }),
      h.context,
    );
    expect(created.state?.ref?.providerId).toBe("arn:aws:logs:eu-west-1:123456789012:log-group:/flotilla/jobs");
    expect(parse(created.state?.configJson)).toEqual({ retentionInDays: 30 });
    await expect(
      h.driver.createResource(create(CreateResourceRequestSchema, { ref, configJson: json({}) }), h.context),
    ).rejects.toBeInstanceOf(AlreadyExistsError);

    const diff = await h.driver.diffResource(
      create(DiffResourceRequestSchema, { ref, desiredConfigJson: json({ retentionInDays: 7 }) }),
      h.context,
    );
    expect(diff.changes).toEqual([
      { path: "/retentionInDays", actualJson: "30", desiredJson: "7", requiresReplacement: false },
    ]);

    const updated = await h.driver.updateResource(
      create(UpdateResourceRequestSchema, { ref, configJson: json({ retentionInDays: 7 }) }),
      h.context,
    );
    expect(parse(updated.state?.configJson)).toEqual({ retentionInDays: 7 });
    const forever = await h.driver.updateResource(
      create(UpdateResourceRequestSchema, { ref, configJson: json({}) }),
      h.context,
    );
    expect(parse(forever.state?.configJson)).toEqual({});
    await expect(
      h.driver.updateResource(
        create(UpdateResourceRequestSchema, {
          ref,
          configJson: json({ kmsKeyId: "arn:aws:kms:eu-west-1:123456789012:key/abc" }),
        }),
        h.context,
      ),
    ).rejects.toThrow(/kmsKeyId cannot change in place/);

    const health = await h.driver.checkResourceHealth(create(CheckResourceHealthRequestSchema, { ref }), h.context);
    expect(health).toEqual({ healthy: true, message: "log group exists; retention forever" });

    await h.driver.deleteResource(create(DeleteResourceRequestSchema, { ref }), h.context);
    await expect(h.driver.readResource(create(ReadResourceRequestSchema, { ref }), h.context)).rejects.toBeInstanceOf(
      NotFoundError,
    );
    await expect(h.driver.deleteResource(create(DeleteResourceRequestSchema, { ref }), h.context)).resolves.toEqual({});
  });

  it("rejects a retention CloudWatch does not offer, and scaling", async () => {
    await expect(
      h.driver.createResource(
        create(CreateResourceRequestSchema, { ref, configJson: json({ retentionInDays: 10 }) }),
        h.context,
      ),
    ).rejects.toThrow(/retentionInDays: must be one of 1, 3, 5, 7, 14/);
    await expect(
      h.driver.scaleResource(create(ScaleResourceRequestSchema, { ref, replicas: 1n }), h.context),
    ).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});
