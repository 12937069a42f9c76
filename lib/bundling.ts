import type { BuildOptions } from 'esbuild';

/** How the functions are bundled, shared by the CDK construct (lib/constructs/bridge-function.ts) and the local stack's sandboxes. */

/**
 * ESM bundles still contain CommonJS dependencies (the X-Ray SDK behind Powertools Tracer) that call `require`;
 * this banner gives them one (the Powertools example stack does the same). It is a string for esbuild, not code here.
 */
export const ESM_REQUIRE_BANNER =
  "import { createRequire } from 'node:module';const require = createRequire(import.meta.url);";

/**
 * The default credential chain's fallbacks (SSO, profile files, process, web identity, container and instance
 * metadata) and the STS/SSO clients behind them. Lambda always puts the role's credentials in the environment, so
 * the chain's first link (fromEnv, bundled) answers and these dynamic imports are never reached; leaving them out
 * saves about 130 KB of every bundle, and with it parse time on each cold start. The bundle keeps no static import
 * of them (test/infra/bundling.test.ts), so loading never depends on them.
 */
export const CREDENTIAL_FALLBACK_MODULES = [
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-login',
  '@smithy/credential-provider-imds',
  '@aws-sdk/nested-clients',
  '@aws-sdk/token-providers',
];

/**
 * SDK capabilities no call of the bridge uses. `@smithy/core/event-streams` is imported dynamically by every
 * client's protocol, but only for operations with event-stream members (e.g. Bedrock or Transcribe streaming);
 * none of the DynamoDB, SQS and Secrets Manager operations the functions call has one. Inlined, that one dynamic
 * import also made esbuild wrap ~150 @smithy/core modules in lazy initialisers: about 20 KB of every bundle.
 */
export const UNUSED_SDK_MODULES = ['@smithy/core/event-streams'];

/**
 * What every function bundle leaves out, each only ever behind a dynamic import its functions never reach
 * (test/infra/bundling.test.ts).
 */
export const EXTERNAL_MODULES = [...CREDENTIAL_FALLBACK_MODULES, ...UNUSED_SDK_MODULES];

/**
 * The esbuild options every function bundle shares, wherever it is built (the bench's copy of the construct's
 * bundling, the local sandboxes): ESM for Node, source maps without sources, EXTERNAL_MODULES left out.
 */
export const SHARED_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  mainFields: ['module', 'main'],
  banner: { js: ESM_REQUIRE_BANNER },
  sourcemap: true,
  sourcesContent: false,
  external: EXTERNAL_MODULES,
  logLevel: 'warning',
} as const satisfies BuildOptions;
