import { describe, expect, it } from "vitest";
import { FlotillaPluginEnv, HandshakeEnv, MAGIC_COOKIE } from "./handshake.js";
import { buildPluginEnvironment, secretValues } from "./plugin-environment.js";

const hostEnv = {
  PATH: "/usr/bin:/bin",
  HOME: "/home/me",
  LANG: "C.UTF-8",
  AWS_SECRET_ACCESS_KEY: "host-secret",
  GOOGLE_APPLICATION_CREDENTIALS: "/etc/gcp.json",
  PLUGIN_MIN_PORT: "1",
};

describe("buildPluginEnvironment", () => {
  it("gives the base variables, the handshake and the grants, and nothing else of the host", () => {
    const env = buildPluginEnvironment({
      hostEnv,
      protocolVersions: [1, 2],
      unixSocketDir: "/tmp/fl-abc",
      granted: { AWS_REGION: "eu-west-1" },
    });
    expect(env).toEqual({
      PATH: "/usr/bin:/bin",
      HOME: "/home/me",
      LANG: "C.UTF-8",
      AWS_REGION: "eu-west-1",
      [MAGIC_COOKIE.key]: MAGIC_COOKIE.value,
      [HandshakeEnv.protocolVersions]: "1,2",
      [HandshakeEnv.unixSocketDir]: "/tmp/fl-abc",
      [FlotillaPluginEnv.stdinLifeline]: "1",
    });
  });

  it("passes inherited names, the client cert and the port range", () => {
    const env = buildPluginEnvironment({
      hostEnv,
      protocolVersions: [1],
      unixSocketDir: "/tmp/x",
      clientCertPem: "-----BEGIN CERTIFICATE-----",
      tcpPortRange: { min: 10000, max: 10010 },
      inheritEnv: ["GOOGLE_APPLICATION_CREDENTIALS"],
    });
    expect(env.GOOGLE_APPLICATION_CREDENTIALS).toBe("/etc/gcp.json");
    expect(env[HandshakeEnv.clientCert]).toBe("-----BEGIN CERTIFICATE-----");
    expect(env[HandshakeEnv.minPort]).toBe("10000");
    expect(env[HandshakeEnv.maxPort]).toBe("10010");
    expect(env[FlotillaPluginEnv.network]).toBe("tcp");
    expect(env.AWS_SECRET_ACCESS_KEY).toBeUndefined();
  });

  it("does not let a grant override the handshake", () => {
    const env = buildPluginEnvironment({
      hostEnv: {},
      protocolVersions: [1],
      unixSocketDir: "/tmp/x",
      granted: { [MAGIC_COOKIE.key]: "forged", [HandshakeEnv.clientCert]: "forged" },
    });
    expect(env[MAGIC_COOKIE.key]).toBe(MAGIC_COOKIE.value);
    expect(env[HandshakeEnv.clientCert]).toBeUndefined();
  });
});

describe("secretValues", () => {
  it("lists granted and inherited values, skipping trivially short ones", () => {
    expect(
      secretValues({ hostEnv, granted: { A: "abcdefgh", B: "hang" }, inheritEnv: ["AWS_SECRET_ACCESS_KEY"] }),
    ).toEqual(["abcdefgh", "host-secret"]);
  });
});
