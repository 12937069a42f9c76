/**
 * Lints an OpenAPI document with Redocly's `recommended-strict` ruleset (every warning of `recommended` is an
 * error) plus stricter rules for tools: a description and exactly one defined tag per operation, described tags
 * and parameters, JSON only, and every example valid against its schema. Used by `npm run openapi` and the test
 * that requires 0 problems (test/unit/openapi/lint.test.ts).
 */

export interface LintProblem {
  ruleId: string;
  severity: 'error' | 'warn';
  message: string;
  /** JSON pointer of the first location, e.g. `#/paths/~1sms/post`. */
  pointer: string;
}

export const LINT_CONFIG = {
  extends: ['recommended-strict'],
  rules: {
    'operation-description': 'error',
    'operation-tag-defined': 'error',
    'operation-singular-tag': 'error',
    'tag-description': 'error',
    'parameter-description': 'error',
    'request-mime-type': { severity: 'error', allowedValues: ['application/json'] },
    'response-mime-type': { severity: 'error', allowedValues: ['application/json'] },
    'no-invalid-media-type-examples': { severity: 'error', allowAdditionalProperties: false },
    'no-invalid-parameter-examples': 'error',
    'no-invalid-schema-examples': 'error',
  },
} as const;

/**
 * Path pairs Redocly calls ambiguous that are not: API Gateway (and the local gateway, lib/local/gateway.ts
 * matchRoute) resolve a literal segment before a `{param}` at the same position, so `/sms/opt-outs/…` always reaches
 * the opt-out routes, and a messageId is a UUID, never `opt-outs`. Only these exact pairs are accepted.
 */
export const ACCEPTED_AMBIGUOUS_PATHS: readonly (readonly [string, string])[] = [
  ['/sms/{messageId}/pii', '/sms/opt-outs/{number}'],
];

const acceptedAmbiguity = (ruleId: string, message: string): boolean =>
  ruleId === 'no-ambiguous-paths' &&
  ACCEPTED_AMBIGUOUS_PATHS.some(([a, b]) => message.includes(`\`${a}\``) && message.includes(`\`${b}\``));

export async function lintOpenApi(document: object): Promise<LintProblem[]> {
  // ESM-only package: loaded on demand so that importing this module stays cheap and CommonJS-safe.
  const redocly = await import('@redocly/openapi-core');
  const config = await redocly.createConfig(
    LINT_CONFIG as unknown as Parameters<typeof redocly.createConfig>[0],
  );
  const problems = await redocly.lintFromString({
    source: JSON.stringify(document, null, 2),
    absoluteRef: 'openapi.json',
    config,
  });
  return problems
    .filter((p) => !p.ignored && !acceptedAmbiguity(p.ruleId, p.message))
    .map((p) => ({
      ruleId: p.ruleId,
      severity: p.severity === 'error' ? 'error' : 'warn',
      message: p.message,
      pointer: p.location[0]?.pointer ?? '',
    }));
}
