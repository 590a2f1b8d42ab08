import { describe, expect, it } from "vitest";
import { ProcessContainer } from "./process-container.js";

describe("ProcessContainer", () => {
  it("captures interleaved output and the real exit code with only the given env", async () => {
    process.env.FAKES_TEST_HOST_ONLY = "leak";
    const container = new ProcessContainer({
      command: ["sh", "-c", 'echo "[$A][$FAKES_TEST_HOST_ONLY]"; echo e >&2; exit 3'],
      env: { A: "1" },
    });
    delete process.env.FAKES_TEST_HOST_ONLY;
    await container.exited();
    expect(container.log.split("\n").sort()).toEqual(["", "[1][]", "e"]);
    expect(container.state).toMatchObject({ kind: "terminated", exitCode: 3, reason: "Error" });
  });

  it("kill stops the process group and reports 137 (SIGKILL)", async () => {
    const container = new ProcessContainer({ command: ["sleep", "30"], env: {} });
    expect(container.state.kind).toBe("running");
    container.kill();
    await container.exited();
    expect(container.state).toMatchObject({ kind: "terminated", exitCode: 137, reason: "Killed" });
  });

  it("a container without a command terminates at once as ContainerCannotRun", async () => {
    const container = new ProcessContainer({ command: [], env: {} });
    await container.exited();
    expect(container.state).toMatchObject({ kind: "terminated", exitCode: 128, reason: "ContainerCannotRun" });
  });
});
