// Fails fast when a workspace script runs under any Node but the project's
// Node 24 (node_modules/.bin/node), e.g. when PATH was rearranged.
const major = process.versions.node.split(".")[0];
if (major !== "24") {
  console.error(
    `Flotilla targets Node 24 LTS but this script runs under Node ${process.versions.node} (${process.execPath}). ` +
      "Run it through `npm test` / `pnpm run`, which put node_modules/.bin/node first on PATH.",
  );
  process.exit(1);
}
