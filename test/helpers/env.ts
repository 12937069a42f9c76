/**
 * Imported first by every unit test that loads function code: quiet Powertools (no EMF lines, no log noise), no
 * tracing, and a region and dummy credentials for the SDK clients — set before functions/shared/powertools.ts
 * creates its singletons.
 */
process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';
process.env.POWERTOOLS_TRACE_ENABLED = 'false';
process.env.AWS_REGION ??= 'us-east-1';
process.env.AWS_ACCESS_KEY_ID ??= 'test';
process.env.AWS_SECRET_ACCESS_KEY ??= 'test';

export {};
