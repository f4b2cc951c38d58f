// Metric names used by a PromQL expression, and the metrics catalogue table of docs/METRICS.md.
import { readFileSync } from 'node:fs';

const keywords = new Set(['and', 'or', 'unless', 'bool', 'offset', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'inf', 'nan', 'atan2']);

/** Series names an expression selects (functions, keywords, labels, durations and numbers left out). */
export function metricNames(expression: string): string[] {
  const text = expression
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|`[^`]*`/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const match of text.matchAll(/(?<![\w.:$])[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    const name = match[0];
    const after = text.slice((match.index ?? 0) + name.length);
    if (/^\s*\(/.test(after) || keywords.has(name.toLowerCase())) continue;
    names.add(name);
  }
  return [...names];
}

export interface CatalogueEntry {
  name: string;
  type: string;
  /** `exported`, or `pending: <what feeds it>`. */
  status: string;
}

export function readCatalogue(path = 'docs/METRICS.md'): CatalogueEntry[] {
  const entries: CatalogueEntry[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`(breakwater_[a-z0-9_]+)`$/.exec(cells[1] ?? '')?.[1];
    if (!name) continue;
    entries.push({ name, type: cells[2] ?? '', status: cells[5] ?? '' });
  }
  return entries;
}

/** Histogram series (`_bucket`, `_sum`, `_count`) are named after their histogram. */
export function baseName(series: string, histograms: ReadonlySet<string>): string {
  const match = /^(.*)_(bucket|sum|count)$/.exec(series);
  return match && histograms.has(match[1] as string) ? (match[1] as string) : series;
}
