/**
 * @flotilla/test-support — helpers that tests in more than one package use. Private: a test imports it by
 * name (a devDependency), never by a relative path into another package's folder; no published package
 * depends on it. Helpers used by one package's tests only stay in that package's `fixtures/` folders.
 */
export { eventually, type ProcEntry, processesMatching, scanProcesses, zombieChildren } from "./proc-scan.js";
export { descendantsOf, isProcessRunning, processGroupMembers } from "./process-tree.js";
export { readmeExample, runReadmeExample } from "./readme-example.js";
