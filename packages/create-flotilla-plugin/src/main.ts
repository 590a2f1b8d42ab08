/**
 * The executable behind `npm create flotilla-plugin NAME` (bin/create-flotilla-plugin.js loads it).
 */
import { runCreate } from "./cli.js";

process.exitCode = runCreate(process.argv.slice(2), {
  cwd: process.cwd(),
  userAgent: process.env.npm_config_user_agent,
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
});
