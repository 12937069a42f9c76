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
    .filter((p) => !p.ignored)
    .filter((p) => p.ruleId !== 'no-ambiguous-paths' || !resolvedByPatterns(document, p.message))
    .map((p) => ({
      ruleId: p.ruleId,
      severity: p.severity === 'error' ? 'error' : 'warn',
      message: p.message,
      pointer: p.location[0]?.pointer ?? '',
    }));
}

type Operations = Record<
  string,
  { parameters?: { name: string; in: string; schema?: { pattern?: string } }[] }
>;

/**
 * Whether two paths Redocly calls ambiguous (same length, each has a parameter where the other has a literal, e.g.
 * `/sms/{messageId}/pii` and `/sms/opt-outs/{number}`) are told apart by their parameters' patterns: some literal
 * segment of one is refused by the pattern of the other's parameter at that place (`opt-outs` is no UUID), so no
 * request fits both. Redocly does not read patterns; API Gateway also prefers the literal segment.
 */
function resolvedByPatterns(document: object, message: string): boolean {
  const pair = /`([^`]+)` and `([^`]+)`/.exec(message);
  if (!pair?.[1] || !pair[2]) return false;
  const paths = (document as { paths?: Record<string, Operations> }).paths ?? {};
  const patternOf = (template: string, name: string): RegExp | undefined => {
    for (const operation of Object.values(paths[template] ?? {})) {
      const pattern = operation.parameters?.find((p) => p.in === 'path' && p.name === name)?.schema?.pattern;
      if (pattern !== undefined) return new RegExp(pattern, 'u');
    }
    return undefined;
  };
  const refuses = (template: string, parameterSegment: string, literal: string): boolean => {
    const name = /^\{([^}]+)\}$/.exec(parameterSegment)?.[1];
    const pattern = name === undefined ? undefined : patternOf(template, name);
    return pattern !== undefined && !pattern.test(literal);
  };
  const [a, b] = [pair[1], pair[2]];
  const left = a.split('/');
  const right = b.split('/');
  if (left.length !== right.length) return false;
  return left.some((segment, i) => {
    const other = right[i] ?? '';
    if (segment.startsWith('{') && !other.startsWith('{')) return refuses(a, segment, other);
    if (other.startsWith('{') && !segment.startsWith('{')) return refuses(b, other, segment);
    return false;
  });
}
