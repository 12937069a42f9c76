import { App } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { functionEntry, projectRoot } from '../../lib/paths';
import { FUNCTIONS, type FunctionName } from '../../functions/shared/catalogue';
import { BridgeStack, type BridgeStackProps } from '../../lib/stack';

/** Stand-in entry while a function's handler is not written yet (these tests never bundle). */
export const STUB_ENTRY = path.join(projectRoot(), 'test', 'infra', 'fixtures', 'stub-handler.ts');

export function testEntry(name: FunctionName): string {
  const real = functionEntry(name);
  return existsSync(real) ? real : STUB_ENTRY;
}

/** An app that never bundles (`aws:cdk:bundling-stacks: []`), so synthesis takes seconds, not minutes. */
export function unbundledApp(): App {
  return new App({ context: { 'aws:cdk:bundling-stacks': [] } });
}

/** The bridge stack on an unbundled app, not synthesized (cdk-nag walks the construct tree). */
export function buildBridge(
  props: BridgeStackProps = {},
  app: App = unbundledApp(),
  id = 'Bridge',
): BridgeStack {
  return new BridgeStack(app, id, { functionEntry: testEntry, ...props });
}

export function synthBridge(props: BridgeStackProps = {}, app: App = unbundledApp(), id = 'Bridge') {
  const stack = buildBridge(props, app, id);
  return { app, stack, template: Template.fromStack(stack) };
}

export type CfnResource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string }; // eslint-disable-line @typescript-eslint/no-explicit-any

export function resourcesOfType(template: Template, type: string): Record<string, CfnResource> {
  return template.findResources(type) as Record<string, CfnResource>;
}

/** Logical ids of the functions, found by the POWERTOOLS_SERVICE_NAME each one carries. */
export function functionIds(template: Template): Record<FunctionName, string> {
  const ids = {} as Record<FunctionName, string>;
  for (const [id, fn] of Object.entries(resourcesOfType(template, 'AWS::Lambda::Function'))) {
    const name = fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME as FunctionName | undefined;
    if (name && name in FUNCTIONS) ids[name] = id;
  }
  return ids;
}

/** `{Ref: X}` / `{Fn::GetAtt: [X, ...]}` → X. */
export function refId(value: unknown): string | undefined {
  if (value && typeof value === 'object') {
    const v = value as Record<string, unknown>;
    if (typeof v.Ref === 'string') return v.Ref;
    const getAtt = v['Fn::GetAtt'];
    if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return getAtt[0];
  }
  return undefined;
}

export function asArray<T>(value: T | T[] | undefined): T[] {
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
}

export interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
  Condition?: unknown;
}

/** The statements of every IAM policy attached to a role. */
export function statementsOfRole(template: Template, roleId: string): Statement[] {
  const statements: Statement[] = [];
  for (const policy of Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))) {
    const roles = asArray(policy.Properties.Roles).map(refId);
    if (roles.includes(roleId))
      statements.push(...(policy.Properties.PolicyDocument.Statement as Statement[]));
  }
  return statements;
}

/** Logical ids a statement's resources point at (through Ref, GetAtt or a Join built on them). */
export function resourceIds(statement: Statement): string[] {
  const ids = new Set<string>();
  const visit = (value: unknown) => {
    const id = refId(value);
    if (id) ids.add(id);
    else if (Array.isArray(value)) value.forEach(visit);
    else if (value && typeof value === 'object') Object.values(value).forEach(visit);
  };
  visit(statement.Resource);
  return [...ids];
}

/**
 * Places where a template carries something that looks like a credential: a value under a credential-bearing key
 * ("apiKey":"…", "authorization":"…", possibly escaped inside a JSON string such as SecretString), a Bearer
 * token, an AWS access key id. Descriptions are documentation (they may show a format example) and are skipped.
 */
export function credentialFindings(template: Template): string[] {
  const text = JSON.stringify(template.toJSON(), (key, value) => (key === 'Description' ? undefined : value));
  return [
    ...text.matchAll(
      /\\*"(apiKey|authorization|callbackTokenKey|password|secret)\\*"\s*:\s*\\*"[^"\\]{1,20}/gi,
    ),
    ...text.matchAll(/Bearer\s+[A-Za-z0-9]{1,20}/g),
    ...text.matchAll(/AKIA[0-9A-Z]{16}/g),
  ].map((m) => m[0]);
}

/** Upper bound for a beforeAll that builds a stack on a busy machine (a limit, not a measurement). */
export const SYNTH_TIMEOUT_MS = 180_000;
