/**
 * Notices when the process that started the CLI goes away.
 *
 * Why: `npx flotilla` runs through pnpm's shell shim for the `node` package
 * (node_modules/.bin/node), which starts the real Node as a child instead of
 * exec-ing it. A SIGTERM sent to what the caller believes is flotilla (a
 * supervisor, `timeout`, a CI cancel) therefore kills only that shell, and
 * the CLI would run on as an orphan with its job. Treating the parent's exit
 * like a SIGTERM makes the CLI cancel its job and exit instead.
 */

/**
 * Calls `onParentGone` once when this process's parent changes (it exited
 * and this process was re-parented). Returns a function that stops watching.
 * Does nothing when the parent is already init (pid 1): then there is no
 * parent to lose. The timer is unref'd so it never keeps the CLI alive.
 * `parentPid` reads the parent's pid; a test passes its own.
 */
export function watchParent(
  onParentGone: () => void,
  intervalMs = 250,
  parentPid: () => number = () => process.ppid,
): () => void {
  const parent = parentPid();
  if (parent <= 1) return () => {};
  const timer = setInterval(() => {
    if (parentPid() === parent) return;
    clearInterval(timer);
    onParentGone();
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}
