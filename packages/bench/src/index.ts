// Filled in by later work; see this package's README.
export {};
