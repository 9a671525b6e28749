// Imported by name (`@comm/test-helpers`) from the tests of several packages, as TypeScript
// source: vitest compiles it, nothing is built or published.
export * from './socket.js';
export * from './process.js';
export * from './lines.js';
export * from './tls.js';
