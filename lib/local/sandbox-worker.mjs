/**
 * Entry of one function sandbox (lib/local/sandbox.ts): registers the TypeScript loader on this worker thread,
 * then runs lib/local/sandbox-runtime.ts. Plain JavaScript because nothing can load TypeScript before this runs.
 */
const { register } = await import('tsx/esm/api');
register();
await import('./sandbox-runtime.ts');
