/**
 * create-flotilla-plugin, as a library: what `npm create flotilla-plugin NAME` does, for tools and tests
 * that write a plugin project without the command line.
 */

export { type CreateIo, runCreate } from "./cli.js";
export {
  type CreatedProject,
  CreateError,
  type CreateOptions,
  createPluginProject,
  providerNameFor,
} from "./create.js";
