/**
 * The one error `serve()` reports before a plugin is up: bad environment,
 * an incomplete service, a listener that cannot bind. Its message is written
 * to stderr as is, so it names the problem and the fix.
 */
export class PluginStartupError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "PluginStartupError";
  }
}
