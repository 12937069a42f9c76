/**
 * The perimeter and what outlives the stack: the stack's own web ACL (on by default, so no WAF acknowledgement is
 * needed), the way to turn it off or replace it, retention of the queues that hold accepted work, and the rule that
 * every remaining cdk-nag acknowledgement is justified in one line.
 */
import { Validations } from 'aws-cdk-lib';
import type { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks, ServerlessChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { DEFAULT_WEB_ACL_RATE_LIMIT } from '../../lib/constructs/bridge-api';
import { DLQ_RETENTION_DAYS } from '../../lib/constructs/bridge-queue';
import { bridgeStackPropsFromContext, type BridgeStack } from '../../lib/stack';
import { QUEUES, SETTINGS } from '../../functions/shared/catalogue';
import { buildBridge, refId, resourcesOfType, synthBridge, unbundledApp, SYNTH_TIMEOUT_MS } from './support';

let defaults: { stack: BridgeStack; template: Template };
let noWaf: { stack: BridgeStack; template: Template };

beforeAll(() => {
  defaults = synthBridge({}, unbundledApp(), 'Defaults');
  noWaf = synthBridge({ retainData: false, api: { createWebAcl: false } }, unbundledApp(), 'NoWaf');
}, SYNTH_TIMEOUT_MS);

const findings = (scope: IConstruct) =>
  [new AwsSolutionsChecks(), new ServerlessChecks()].flatMap((pack) =>
    pack.validateScope(scope).violations.map((v) => v.ruleName),
  );

/** Every acknowledgement below a stack: rule id, reason and where it sits. */
function acknowledgements(stack: BridgeStack): { path: string; id: string; reason: string }[] {
  const found: { path: string; id: string; reason: string }[] = [];
  for (const construct of stack.node.findAll()) {
    for (const entry of construct.node.metadata) {
      if (entry.type !== Validations.ACKNOWLEDGED_RULES_METADATA_KEY) continue;
      for (const [id, reason] of Object.entries(entry.data as Record<string, unknown>)) {
        found.push({ path: construct.node.path, id, reason: String(reason) });
      }
    }
  }
  return found;
}

describe('web ACL', () => {
  test('by default the stack creates a REGIONAL web ACL with the AWS managed rules and a per-IP rate limit', () => {
    const acls = Object.values(resourcesOfType(defaults.template, 'AWS::WAFv2::WebACL'));
    expect(acls).toHaveLength(1);
    const acl = acls[0]!.Properties;
    expect(acl.Scope).toBe('REGIONAL');
    expect(acl.DefaultAction).toEqual({ Allow: {} });
    const rules = acl.Rules as Record<string, any>[]; // eslint-disable-line @typescript-eslint/no-explicit-any
    expect(rules.map((r) => r.Name)).toEqual([
      'AWSManagedRulesCommonRuleSet',
      'AWSManagedRulesKnownBadInputsRuleSet',
      'RateLimitPerSourceIp',
    ]);
    const common = rules[0]!.Statement.ManagedRuleGroupStatement;
    expect(common).toMatchObject({ VendorName: 'AWS', Name: 'AWSManagedRulesCommonRuleSet' });
    // The 8 kB body rule only counts (routes take up to 64 kB and 256 kB), and so does the User-Agent rule (8x8
    // documents none for its webhooks).
    expect(common.RuleActionOverrides).toEqual([
      { Name: 'SizeRestrictions_BODY', ActionToUse: { Count: {} } },
      { Name: 'NoUserAgent_HEADER', ActionToUse: { Count: {} } },
    ]);
    expect(rules[1]!.Statement.ManagedRuleGroupStatement).toEqual({
      VendorName: 'AWS',
      Name: 'AWSManagedRulesKnownBadInputsRuleSet',
    });
    expect(rules[2]).toMatchObject({
      Action: { Block: {} },
      Statement: { RateBasedStatement: { Limit: DEFAULT_WEB_ACL_RATE_LIMIT, AggregateKeyType: 'IP' } },
    });
    for (const rule of rules) expect(rule.VisibilityConfig.CloudWatchMetricsEnabled).toBe(true);
  });

  test('the web ACL is associated with the API stage', () => {
    const [association] = Object.values(resourcesOfType(defaults.template, 'AWS::WAFv2::WebACLAssociation'));
    const [aclId] = Object.keys(resourcesOfType(defaults.template, 'AWS::WAFv2::WebACL'));
    const [stageId] = Object.keys(resourcesOfType(defaults.template, 'AWS::ApiGateway::Stage'));
    expect(refId(association!.Properties.WebACLArn)).toBe(aclId);
    expect(JSON.stringify(association!.Properties.ResourceArn)).toContain(stageId!);
  });

  test('with the default web ACL no WAF acknowledgement remains and cdk-nag finds nothing', () => {
    expect(acknowledgements(defaults.stack).filter((a) => a.id.includes('APIG3'))).toEqual([]);
    expect(findings(defaults.stack)).toEqual([]);
  });

  test('createWebAcl: false leaves the stage without WAF and says why', () => {
    expect(Object.keys(resourcesOfType(noWaf.template, 'AWS::WAFv2::WebACL'))).toEqual([]);
    expect(Object.keys(resourcesOfType(noWaf.template, 'AWS::WAFv2::WebACLAssociation'))).toEqual([]);
    const waf = acknowledgements(noWaf.stack).filter((a) => a.id.endsWith('AwsSolutions-APIG3'));
    expect(waf).toHaveLength(1);
    expect(waf[0]!.reason).toMatch(/createWebAcl: false/);
  });

  test('the rate limit follows webAclRateLimit', () => {
    const { template } = synthBridge({ api: { webAclRateLimit: 3_000 } });
    const [acl] = Object.values(resourcesOfType(template, 'AWS::WAFv2::WebACL'));
    const rate = (acl!.Properties.Rules as { Name: string; Statement: Record<string, unknown> }[]).find(
      (r) => r.Name === 'RateLimitPerSourceIp',
    );
    expect(rate?.Statement).toEqual({ RateBasedStatement: { Limit: 3_000, AggregateKeyType: 'IP' } });
  });

  test('context createWebAcl=false and webAclRateLimit become props', () => {
    const props = bridgeStackPropsFromContext(
      (key) => ({ createWebAcl: 'false', webAclRateLimit: '5000' })[key as 'createWebAcl'],
    );
    expect(props.api).toMatchObject({ createWebAcl: false, webAclRateLimit: 5000 });
    expect(bridgeStackPropsFromContext(() => undefined).api?.createWebAcl).toBe(true);
  });
});

describe('retention on stack deletion', () => {
  test('by default every queue and DLQ (accepted work) is retained, like the tables', () => {
    const queues = Object.values(resourcesOfType(defaults.template, 'AWS::SQS::Queue'));
    expect(queues).toHaveLength(Object.keys(QUEUES).length * 2);
    for (const queue of queues) {
      expect(queue).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    }
    for (const table of Object.values(resourcesOfType(defaults.template, 'AWS::DynamoDB::Table'))) {
      expect(table.DeletionPolicy).toBe('Retain');
      expect(table.Properties.DeletionProtectionEnabled).toBe(true);
    }
  });

  test('retainData: false lets the queues go with the stack', () => {
    for (const queue of Object.values(resourcesOfType(noWaf.template, 'AWS::SQS::Queue'))) {
      expect(queue.DeletionPolicy).toBe('Delete');
    }
  });

  test(`DLQs keep messages ${DLQ_RETENTION_DAYS} days, the longest SQS allows`, () => {
    const queues = Object.values(resourcesOfType(defaults.template, 'AWS::SQS::Queue'));
    const dlqIds = new Set(
      queues.map((q) => refId(q.Properties.RedrivePolicy?.deadLetterTargetArn)).filter((id) => id),
    );
    const all = resourcesOfType(defaults.template, 'AWS::SQS::Queue');
    expect(dlqIds.size).toBe(Object.keys(QUEUES).length);
    for (const id of dlqIds) expect(all[id!]!.Properties.MessageRetentionPeriod).toBe(14 * 86_400);
  });
});

describe('settings for the local stack only', () => {
  test(`${SETTINGS.allowLoopbackUrls}=true is refused by the cloud stack`, () => {
    expect(() => buildBridge({ settings: { [SETTINGS.allowLoopbackUrls]: 'true' } })).toThrow(
      /local stack only/,
    );
  });
});

describe('cdk-nag acknowledgements', () => {
  test('every remaining acknowledgement is justified in one line', () => {
    const all = [...acknowledgements(defaults.stack), ...acknowledgements(noWaf.stack)];
    expect(all.length).toBeGreaterThan(0);
    for (const ack of all) {
      const line = `${ack.id} at ${ack.path}: ${ack.reason}`;
      expect({ line, oneLine: !/[\r\n]/.test(ack.reason), long: ack.reason.length >= 30 }).toEqual({
        line,
        oneLine: true,
        long: true,
      });
    }
  });
});
