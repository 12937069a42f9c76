/** Plain-text and Markdown tables for the benchmark and chaos reports. */

export type Verdict = 'met' | 'missed' | '';

export interface ReportRow {
  metric: string;
  value: string;
  target?: string;
  verdict?: Verdict;
  note?: string;
}

function cells(row: ReportRow): string[] {
  const verdict = row.verdict === 'met' ? 'met' : row.verdict === 'missed' ? 'MISSED' : '';
  return [row.metric, row.value, row.target ?? '', verdict, row.note ?? ''];
}

const HEADERS = ['Metric', 'Value', 'Target', 'Verdict', 'Note'];

export function markdownTable(rows: readonly ReportRow[], headers: readonly string[] = HEADERS): string {
  const escape = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    `| ${headers.join(' | ')} |`,
    `| ${headers.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${cells(row).map(escape).join(' | ')} |`),
  ];
  return lines.join('\n');
}

/** A fixed-width table for the console. */
export function textTable(rows: readonly string[][], headers: readonly string[]): string {
  const all = [headers, ...rows];
  const widths = headers.map((_, i) => Math.max(...all.map((r) => (r[i] ?? '').length)));
  const line = (r: readonly string[]) =>
    r
      .map((c, i) => (c ?? '').padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  return [line(headers), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n');
}

export function reportTextTable(rows: readonly ReportRow[]): string {
  return textTable(rows.map(cells), HEADERS);
}

export function verdict(met: boolean): Verdict {
  return met ? 'met' : 'missed';
}
