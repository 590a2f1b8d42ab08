import { describe, expect, it } from "vitest";
import type { PairMeasurement } from "./compare.js";
import {
  formatCliRoundTripTable,
  formatHostTrackingTable,
  formatLogLatencyTable,
  formatTable,
  formatTransportTable,
  logLatencyRatios,
  readyRatios,
  transportRows,
} from "./report.js";

function measurement(name: string, p50: number, p99: number, rate1: number, rate64: number): PairMeasurement {
  return {
    name,
    latency: { count: 10, p50, p99, mean: p50 },
    clientCpuMicrosPerCall: 10,
    serverCpuMicrosPerCall: 20,
    callsPerSecond: new Map([
      [1, rate1],
      [64, rate64],
    ]),
  };
}

describe("transportRows", () => {
  it("divides latency and throughput by the floor's", () => {
    const floor = measurement("floor", 100, 400, 5000, 10000);
    const [, row] = transportRows([floor, measurement("x", 150, 1000, 2500, 5000)], floor);
    expect(row?.p50VsFloor).toBe(1.5);
    expect(row?.p99VsFloor).toBe(2.5);
    expect(row?.throughputVsFloor.get(1)).toBe(0.5);
    expect(row?.throughputVsFloor.get(64)).toBe(0.5);
  });
});

describe("formatTransportTable", () => {
  it("prints one line per pair with its ratios", () => {
    const floor = measurement("floor", 100, 400, 5000, 10000);
    const text = formatTransportTable(transportRows([floor, measurement("slow pair", 300, 800, 1000, 2000)], floor));
    const lines = text.split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^slow pair\s+300\s+3\.00×\s+800\s+2\.00×\s+1000\s+0\.20×\s+2000\s+0\.20×/);
  });
});

describe("formatTable", () => {
  it("pads columns to their widest cell", () => {
    expect(formatTable(["a", "bb"], [["ccc", "d"]])).toBe("a    bb\n---  --\nccc  d");
  });
});

describe("readyRatios", () => {
  it("relates plugin start-up and memory to bare Node, NaN for a kind that was not measured", () => {
    const summary = (p50: number) => ({ count: 1, p50, p99: p50, mean: p50 });
    const ratios = readyRatios({
      pluginReadyMtls: undefined,
      pluginReadyPlaintext: summary(100),
      pluginHandshakePlaintext: summary(80),
      grpcJsServerFloor: summary(110),
      http2ServerFloor: summary(70),
      bareNode: summary(40),
      pluginIdleRssBytes: 60,
      bareNodeIdleRssBytes: 40,
      failures: ["AutoMTLS: broken"],
    });
    expect(ratios.readyPlaintextVsBareNode).toBe(2.5);
    expect(ratios.idleRssVsBareNode).toBe(1.5);
    expect(ratios.readyMtlsVsBareNode).toBeNaN();
  });
});

describe("logLatencyRatios and formatLogLatencyTable", () => {
  const summary = (p50: number, p99: number) => ({ count: 200, p50, p99, mean: p50 });

  it("divide the host path's percentiles by the pipe's and print them in ms", () => {
    const measurement = { viaHost: summary(1500, 6000), pipeFloor: summary(250, 1000), failure: undefined };
    expect(logLatencyRatios(measurement)).toEqual({ p50VsPipe: 6, p99VsPipe: 6 });
    const lines = formatLogLatencyTable(measurement).split("\n");
    expect(lines).toHaveLength(4);
    expect(lines[3]).toMatch(/^host → local plugin job, jobLogs follow\s+200\s+1\.50\s+6\.00×\s+6\.00\s+6\.00×$/);
  });

  it("print NaN and the reason when the host side failed", () => {
    const measurement = { viaHost: undefined, pipeFloor: summary(250, 1000), failure: "plugin did not start" };
    expect(logLatencyRatios(measurement).p50VsPipe).toBeNaN();
    expect(formatLogLatencyTable(measurement)).toMatch(/NOT MEASURED: host → local plugin job, plugin did not start$/);
  });
});

describe("formatCliRoundTripTable", () => {
  it("prints both medians and flotilla's ratio to bare node", () => {
    const table = formatCliRoundTripTable({
      flotillaRunTrue: { count: 7, p50: 600, p99: 900, mean: 650 },
      bareNode: { count: 7, p50: 50, p99: 70, mean: 55 },
    });
    expect(table).toMatch(/flotilla run -- true\s+7\s+600\s+900\s+12\.0×/);
    expect(table).toMatch(/node -e 0\s+7\s+50\s+70\s+1\.0×/);
  });
});

describe("formatHostTrackingTable", () => {
  it("prints the calls per job per interval and the heap per job in KiB", () => {
    const table = formatHostTrackingTable({
      jobs: 1000,
      polls: 5,
      batchCalls: 5,
      singleCalls: 0,
      callsPerJobPerPoll: 0.001,
      heapBytesPerJob: 12_800,
    });
    expect(table).toMatch(/1000\s+5\s+5\s+0\s+0\.001\s+12\.5/);
  });
});
