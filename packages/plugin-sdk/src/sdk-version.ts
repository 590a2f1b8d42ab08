/** This SDK's name and version, as ContractRegistry.sdk reports it; a test keeps it equal to package.json. */
export const SDK_VERSION = "0.1.0";

/** "@flotilla/plugin-sdk <version>". */
export const SDK_NAME_AND_VERSION = `@flotilla/plugin-sdk ${SDK_VERSION}`;
