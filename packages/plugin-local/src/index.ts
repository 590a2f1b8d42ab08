// Filled in by a later issue; see this package's README.
export {};
