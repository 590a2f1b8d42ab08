// Regenerates the TypeScript for proto/ (the contract) and wire/ (go-plugin
// and gRPC health) into packages/protocol/src/gen. Pass `--output DIR` to
// write under DIR instead, as proto-check.mjs does.
import { execFileSync } from "node:child_process";

const outputIndex = process.argv.indexOf("--output");
const extra = outputIndex > 0 ? ["--output", process.argv[outputIndex + 1]] : [];
for (const template of ["buf.gen.yaml", "buf.gen.wire.yaml"]) {
  execFileSync("buf", ["generate", "--template", template, ...extra], { stdio: "inherit" });
}
