/** Jest runs TypeScript through swc as CommonJS; middy 7 ships ESM only, so it is transformed and mapped. */
// Tests run on the development machine's Node 20; the functions target Node 22 in Lambda, so the SDK's notice
// about Node 20 support would only repeat itself in every worker.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.(t|j|mj)sx?$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: ['node_modules/(?!(@middy|jose|uuid)/)'],
  moduleNameMapper: { '^@middy/([^/]+)$': '<rootDir>/node_modules/@middy/$1/index.js' },
  testTimeout: 30000,
  maxWorkers: 2,
};
