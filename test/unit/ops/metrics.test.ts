/**
 * The metric names cannot drift: every EMF metric the dashboard and the alarms read (found in the synthesized
 * template) is emitted somewhere in functions/, every metric functions/ emits is documented in docs/operations.md
 * "Metrics" and nothing documented is gone, and every alarm's runbook anchor is a heading of docs/operations.md.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { QUEUES } from '../../../functions/shared/catalogue';
import { RUNBOOK_ANCHORS } from '../../../lib/constructs/bridge-alarms';
import { BRIDGE_METRICS } from '../../../lib/constructs/bridge-metrics';
import { projectRoot } from '../../../lib/paths';
import { SYNTH_TIMEOUT_MS, synthBridge } from '../../infra/support';

const root = projectRoot();
const NAMESPACE = 'Cognigy8x8Bridge';

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/**
 * Metric names functions/ emits: literal names given to Powertools (addMetric), to the telemetry port (count,
 * milliseconds), to countWithDimensions and the webhooks' verdicts, plus the queue consumer's `<queue>Exhausted`.
 */
function emittedMetrics(): Map<string, string[]> {
  const emitted = new Map<string, string[]>();
  const add = (name: string, file: string) => emitted.set(name, [...(emitted.get(name) ?? []), file]);
  const patterns = [
    /addMetric\(\s*'([A-Za-z0-9]+)'/g,
    /\b(?:count|milliseconds|countWithDimensions)\(\s*'([A-Za-z0-9]+)'/g,
    /\bmetric: '([A-Za-z0-9]+)'/g,
  ];
  for (const file of sourceFiles(path.join(root, 'functions'))) {
    const text = readFileSync(file, 'utf8');
    const relative = path.relative(root, file);
    for (const pattern of patterns) for (const match of text.matchAll(pattern)) add(match[1]!, relative);
    if (text.includes('addMetric(`${options.queue}Exhausted`')) {
      for (const queue of Object.keys(QUEUES)) add(`${queue}Exhausted`, relative);
    }
  }
  return emitted;
}

/** The `Metrics` table of docs/operations.md: first column `Name`. */
function documentedMetrics(): Set<string> {
  const doc = readFileSync(path.join(root, 'docs', 'operations.md'), 'utf8');
  const section = doc.split(/^## /m).find((s) => s.startsWith('Metrics'));
  if (!section) throw new Error('docs/operations.md has no "## Metrics" section');
  return new Set([...section.matchAll(/^\| `([A-Za-z0-9]+)`/gm)].map((m) => m[1]!));
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function headingAnchors(): Set<string> {
  const doc = readFileSync(path.join(root, 'docs', 'operations.md'), 'utf8');
  return new Set(
    [...doc.matchAll(/^#{1,6} (.+)$/gm)].map((m) =>
      m[1]!
        .trim()
        .toLowerCase()
        .replace(/[^a-z0-9 _-]/g, '')
        .replace(/ /g, '-'),
    ),
  );
}

/** Metric names of the bridge's namespace that the template's alarms and dashboard read. */
function metricsInTemplate(template: ReturnType<typeof synthBridge>['template']): Set<string> {
  const names = new Set<string>();
  const json = template.toJSON() as { Resources: Record<string, { Type: string; Properties: any }> }; // eslint-disable-line @typescript-eslint/no-explicit-any
  for (const resource of Object.values(json.Resources)) {
    if (resource.Type === 'AWS::CloudWatch::Alarm') {
      const p = resource.Properties;
      if (p.Namespace === NAMESPACE) names.add(p.MetricName);
      for (const query of p.Metrics ?? []) {
        const metric = query.MetricStat?.Metric;
        if (metric?.Namespace === NAMESPACE) names.add(metric.MetricName);
      }
    }
    if (resource.Type === 'AWS::CloudWatch::Dashboard') {
      const body = JSON.stringify(resource.Properties.DashboardBody);
      for (const m of body.matchAll(new RegExp(`\\[\\\\"${NAMESPACE}\\\\",\\\\"([A-Za-z0-9]+)\\\\"`, 'g'))) {
        names.add(m[1]!);
      }
      for (const m of body.matchAll(/MetricName=\\\\\\"([A-Za-z0-9]+)\\\\\\"/g)) names.add(m[1]!);
    }
  }
  return names;
}

let used: Set<string>;
beforeAll(() => {
  used = metricsInTemplate(synthBridge().template);
}, SYNTH_TIMEOUT_MS);

test('the template reads the bridge metrics it is meant to (the scan finds alarms, dashboard and search)', () => {
  expect([...used]).toEqual(
    expect.arrayContaining([
      'SmsOutboxSwept',
      'ChatEventBodyMismatch',
      'SmsFailed',
      'SmsReceipt',
      '8x8Latency',
      'WebhookRefused',
      'HandoverRelayLatency',
    ]),
  );
});

test('every metric the dashboard and the alarms read is emitted in functions/', () => {
  const emitted = emittedMetrics();
  const missing = [...used].filter((name) => !emitted.has(name));
  expect(missing).toEqual([]);
  // And the declared list says no more than the template reads.
  expect(Object.keys(BRIDGE_METRICS).filter((name) => !used.has(name))).toEqual([]);
});

test('every metric functions/ emits has a row in docs/operations.md "Metrics", and every row is emitted', () => {
  const emitted = emittedMetrics();
  const documented = documentedMetrics();
  expect([...emitted.keys()].filter((name) => !documented.has(name)).sort()).toEqual([]);
  expect([...documented].filter((name) => !emitted.has(name)).sort()).toEqual([]);
});

test('each alarm runbook anchor is a heading of docs/operations.md', () => {
  const anchors = headingAnchors();
  expect(Object.values(RUNBOOK_ANCHORS).filter((anchor) => !anchors.has(anchor))).toEqual([]);
  expect(anchors.has('reading-the-dashboard')).toBe(true);
});
