// The repository's vitest configuration, narrowed to one package's own tests: a package's mutants are
// judged by the tests that sit beside its sources (docs/testing.md), so a mutation run does not start every
// test in the repository that happens to import the package.
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig } from "vitest/config";
import repository from "../../vitest.config.ts";

const testedPackage = process.env.FLOTILLA_MUTATE_PACKAGE;
if (!testedPackage) throw new Error("FLOTILLA_MUTATE_PACKAGE is not set; run mutation tests with `npm run mutate`");

export default defineConfig({
  ...repository,
  root: dirname(dirname(dirname(fileURLToPath(import.meta.url)))),
  test: { ...repository.test, include: [`packages/${testedPackage}/src/**/*.test.ts`] },
});
