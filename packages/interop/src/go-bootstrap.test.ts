import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { buildZip } from "./fixtures/zip-writer.js";
import { ensureGo, GO_TOOLCHAIN_SHA256, goPlatform, goProxyBase } from "./go-bootstrap.js";

const FAKE_VERSION = "go9.9.9";

/** A module-proxy stand-in serving one fake toolchain zip whose `go` prints a version. */
async function serveFakeToolchain(): Promise<{ server: Server; base: string; sha256: string; requests: string[] }> {
  const module = `v0.0.1-${FAKE_VERSION}.${goPlatform()}`;
  const zip = buildZip([
    {
      name: `golang.org/toolchain@${module}/bin/go`,
      content: `#!/bin/sh\necho "go version ${FAKE_VERSION} fake"\n`,
      deflate: true,
      mode: 0o755,
    },
  ]);
  const requests: string[] = [];
  const server = createServer((request, response) => {
    requests.push(request.url ?? "");
    if (request.url === `/golang.org/toolchain/@v/${module}.zip`) response.end(zip);
    else response.writeHead(404).end();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    base: `http://127.0.0.1:${port}`,
    sha256: createHash("sha256").update(zip).digest("hex"),
    requests,
  };
}

describe("ensureGo", () => {
  let dir = "";
  let server: Server | undefined;
  afterEach(async () => {
    server?.close();
    server = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("uses the go on PATH when there is one", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-go-"));
    const found = await ensureGo(dir);
    expect(found.binDir).toBeUndefined();
    expect(found.version).toMatch(/^go version go\d/);
  });

  it("without go on PATH, fetches the toolchain from the proxy once, checks it, and unpacks it", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-go-"));
    const fake = await serveFakeToolchain();
    server = fake.server;
    const options = { env: { PATH: join(dir, "empty") }, proxy: fake.base, sha256: fake.sha256, version: FAKE_VERSION };
    const fetched = await ensureGo(dir, options);
    expect(fetched.binDir).toBe(join(dir, "go-toolchain", `${FAKE_VERSION}.${goPlatform()}`, "bin"));
    expect(fetched.version).toBe(`go version ${FAKE_VERSION} fake`);
    // The second call finds the unpacked toolchain and downloads nothing.
    await ensureGo(dir, options);
    expect(fake.requests).toHaveLength(1);
  });

  it("refuses a toolchain whose SHA-256 is not the pinned one", async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-go-"));
    const fake = await serveFakeToolchain();
    server = fake.server;
    const wrong = "0".repeat(64);
    await expect(
      ensureGo(dir, { env: { PATH: join(dir, "empty") }, proxy: fake.base, sha256: wrong, version: FAKE_VERSION }),
    ).rejects.toThrow(new RegExp(`has SHA-256 ${fake.sha256}, not the pinned ${wrong}; refusing to use it`));
  });

  it("pins the toolchain for the platform CI runs on, and reads GOPROXY's first https entry", () => {
    expect(GO_TOOLCHAIN_SHA256["linux-amd64"]).toMatch(/^[0-9a-f]{64}$/);
    expect(goProxyBase({ GOPROXY: "https://goproxy.example/,direct" })).toBe("https://goproxy.example");
    expect(goProxyBase({ GOPROXY: "off" })).toBe("https://proxy.golang.org");
  });
});
