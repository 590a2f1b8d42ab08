// The contract's gate, run by the test command:
//   1. buf lint (STANDARD + COMMENTS, no exceptions)
//   2. buf format --diff --exit-code
//   3. buf breaking against the main branch (origin/main when the clone has
//      it, else the local main; the check passes while there is nothing to
//      compare, and is always really invoked)
//   4. regenerating the TypeScript must not change the committed files.
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";

let failed = false;
function step(title, command, args) {
  process.stdout.write(`proto-check: ${title} … `);
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.status === 0) {
    console.log("ok");
    return true;
  }
  console.log("FAILED");
  process.stdout.write(result.stdout);
  process.stderr.write(result.stderr);
  failed = true;
  return false;
}

function gitRefExists(ref) {
  return spawnSync("git", ["rev-parse", "--verify", "--quiet", `${ref}^{commit}`]).status === 0;
}

step("buf lint", "buf", ["lint"]);
step("buf format", "buf", ["format", "--diff", "--exit-code"]);

const against = ["origin/main", "main"].find(gitRefExists);
if (against) {
  const hasProto = spawnSync("git", ["cat-file", "-e", `${against}:proto`]).status === 0;
  if (hasProto) {
    step(`buf breaking against ${against}`, "buf", [
      "breaking",
      "proto",
      "--against",
      `.git#ref=${against},subdir=proto`,
    ]);
  } else {
    console.log(`proto-check: buf breaking: ${against} has no proto/ yet, nothing to compare`);
  }
} else {
  console.log("proto-check: buf breaking: no main branch in this clone, nothing to compare");
}

function listFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...listFiles(path));
    else out.push(path);
  }
  return out.sort();
}

process.stdout.write("proto-check: generated code is up to date … ");
const scratch = mkdtempSync(join(tmpdir(), "flotilla-gen-"));
try {
  execFileSync(process.execPath, ["scripts/proto-gen.mjs", "--output", scratch], { stdio: "pipe" });
  const committedRoot = "packages/protocol/src/gen";
  const freshRoot = join(scratch, committedRoot);
  const committed = listFiles(committedRoot).map((f) => relative(committedRoot, f));
  const fresh = listFiles(freshRoot).map((f) => relative(freshRoot, f));
  const stale = [
    ...fresh.filter((f) => !committed.includes(f)).map((f) => `missing: ${f}`),
    ...committed.filter((f) => !fresh.includes(f)).map((f) => `not generated any more: ${f}`),
    ...fresh
      .filter((f) => committed.includes(f))
      .filter((f) => readFileSync(join(freshRoot, f), "utf8") !== readFileSync(join(committedRoot, f), "utf8"))
      .map((f) => `differs: ${f}`),
  ];
  if (stale.length === 0) console.log("ok");
  else {
    console.log("FAILED");
    console.error(`${stale.join("\n")}\nRun \`pnpm run proto:gen\` and commit the result.`);
    failed = true;
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}

process.exit(failed ? 1 : 0);
