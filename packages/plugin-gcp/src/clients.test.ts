import { execFile } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { type FakeGcp, startFakeGcp } from "@flotilla/fakes";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GcpClients } from "./clients.js";
import { parseGcpEndpoint } from "./endpoint.js";

const distDir = join(dirname(fileURLToPath(import.meta.url)), "..", "dist");

let fake: FakeGcp;
beforeAll(async () => {
  fake = await startFakeGcp();
});
afterAll(async () => {
  await fake.close();
});

function clientsForFake(): GcpClients {
  return new GcpClients({ project: "flotilla-test", endpoint: parseGcpEndpoint(fake.address, true) });
}

describe("GcpClients", () => {
  it("loads no Google client module until a client is first asked for", async () => {
    // A fresh process: vitest itself has the client packages loaded already.
    const script = `
      import { createRequire } from "node:module";
      const { GcpClients } = await import(${JSON.stringify(join(distDir, "clients.js"))});
      const cache = createRequire(import.meta.url).cache;
      const loaded = () => Object.keys(cache).filter((k) => k.includes("@google-cloud") || k.includes("google-gax")).length;
      const clients = new GcpClients({ project: "p", endpoint: { host: "127.0.0.1", port: ${fake.port}, insecure: true } });
      const before = loaded();
      await clients.jobs();
      console.log(JSON.stringify({ before, after: loaded() }));
      await clients.close();
    `;
    const output = await new Promise<string>((resolve, reject) =>
      execFile(process.execPath, ["--input-type=module", "-e", script], { cwd: distDir }, (err, stdout) =>
        err ? reject(err) : resolve(stdout),
      ),
    );
    const { before, after } = JSON.parse(output.trim().split("\n").at(-1) as string) as {
      before: number;
      after: number;
    };
    expect(before).toBe(0);
    expect(after).toBeGreaterThan(0);
  });

  it("points every client at the configured endpoint, without credentials when it is insecure", async () => {
    const clients = clientsForFake();
    const jobs = await clients.jobs();
    expect(await clients.jobs()).toBe(jobs);
    fake.calls.reset();
    await expect(jobs.getJob({ name: "projects/flotilla-test/locations/us-central1/jobs/none" })).rejects.toMatchObject(
      { code: 5 },
    );
    const [executions] = await (await clients.executions()).listExecutions({
      parent: "projects/flotilla-test/locations/us-central1/jobs/-",
    });
    expect(executions).toEqual([]);
    const [tasks] = await (await clients.tasks()).listTasks({
      parent: "projects/flotilla-test/locations/us-central1/jobs/-/executions/-",
    });
    expect(tasks).toEqual([]);
    const [services] = await (await clients.services()).listServices({
      parent: "projects/flotilla-test/locations/us-central1",
    });
    expect(services).toEqual([]);
    const [entries] = await (await clients.logging()).getEntries({
      filter: 'resource.type="cloud_run_job"',
      autoPaginate: false,
    });
    expect(entries).toEqual([]);
    expect(fake.calls.snapshot()).toEqual({
      GetJob: 1,
      ListExecutions: 1,
      ListTasks: 1,
      ListServices: 1,
      ListLogEntries: 1,
    });
    expect(fake.authorizations.slice(-5)).toEqual(["", "", "", "", ""]);
    await clients.close();
  });
});
