import type { BenchRow, BenchTarget } from './types.js';

/** A row of the table: a measured figure, or a subject that was skipped or failed, with why. */
export type ResultRow =
  | (BenchRow & { status: 'ok' })
  | { group: string; subject: string; status: 'skipped' | 'failed'; reason: string };

/** A target with its outcome. `pass` is undefined when it could not be judged (quick mode, a missing row). */
export interface TargetResult extends BenchTarget {
  /** subject / baseline, or the subject's own value without a baseline. */
  measured?: number;
  pass?: boolean;
  text: string;
}

function formatRatio(ratio: number): string {
  return `${ratio >= 10 ? ratio.toFixed(1) : ratio.toFixed(2)}x`;
}

/** Compact figure: 1234567 -> "1.23 M", 160400 -> "160 k", 6.41 -> "6.41". */
export function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${(value / 1e6).toFixed(2)} M`;
  if (abs >= 1e4) return `${(value / 1e3).toFixed(0)} k`;
  if (abs >= 100) return value.toFixed(0);
  if (abs >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

/** A latency in ms as µs below a millisecond, which is where loopback round trips live. */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '-';
  return ms < 1 ? `${(ms * 1000).toFixed(ms < 0.1 ? 1 : 0)} µs` : `${ms.toFixed(ms < 10 ? 2 : 1)} ms`;
}

/**
 * Judges each target against the rows. In quick mode figures are too short to mean anything,
 * so the ratio is shown but nothing passes or misses.
 */
export function evaluateTargets(rows: readonly ResultRow[], targets: readonly BenchTarget[], quick: boolean): TargetResult[] {
  const rowOf = (group: string, subject: string): BenchRow | undefined => {
    for (const row of rows) if (row.group === group && row.subject === subject && row.status === 'ok') return row;
    return undefined;
  };
  return targets.map((target) => {
    const bound =
      target.atLeast !== undefined && target.atMost !== undefined
        ? `${target.atLeast} to ${target.atMost}`
        : target.atLeast !== undefined
          ? `≥ ${target.atLeast}`
          : `≤ ${target.atMost}`;
    const subject = rowOf(target.group, target.subject);
    let measured: number | undefined;
    let text: string;
    if (target.baseline !== undefined) {
      const baseline = rowOf(target.group, target.baseline);
      if (subject !== undefined && baseline !== undefined && baseline.value > 0) measured = subject.value / baseline.value;
      text = `${measured === undefined ? '?' : formatRatio(measured)} ${target.baseline} (target ${bound}x`;
    } else {
      measured = subject?.value;
      text = `${measured === undefined ? '?' : formatNumber(measured)} ${subject?.unit ?? ''} (target ${bound}${
        subject?.unit ? ` ${subject.unit}` : ''
      }`;
    }
    text += target.issue !== undefined ? `, #${target.issue})` : ')';
    const judged =
      measured === undefined || quick || target.informational
        ? undefined
        : (target.atLeast === undefined || measured >= target.atLeast) &&
          (target.atMost === undefined || measured <= target.atMost);
    return {
      ...target,
      ...(measured !== undefined ? { measured } : {}),
      ...(judged !== undefined ? { pass: judged } : {}),
      text,
    };
  });
}

function verdict(result: TargetResult, quick: boolean): string {
  if (result.pass === true) return 'PASS';
  if (result.pass === false) return 'MISS';
  if (quick) return 'quick';
  return result.informational ? 'info' : 'n/a';
}

function figureOf(row: ResultRow): string {
  if (row.status !== 'ok') return `${row.status === 'failed' ? 'FAILED' : 'skipped'}: ${row.reason}`;
  if (row.unit === 'ms') return formatMs(row.value);
  return `${formatNumber(row.value)} ${row.unit}`;
}

function detailsOf(row: ResultRow): string {
  if (row.status !== 'ok' || row.details === undefined) return '';
  return Object.entries(row.details)
    .map(([key, value]) => `${key} ${value}`)
    .join('  ');
}

/**
 * The one table: per group, each subject's figure and details, then its targets with ratio,
 * bound and PASS/MISS, in plain text that reads in a terminal and in a CI log.
 */
export function formatTable(rows: readonly ResultRow[], targets: readonly TargetResult[], quick: boolean): string {
  const groups = [...new Set(rows.map((row) => row.group))];
  type Line = [subject: string, figure: string, details: string, target: string, result: string] | string;
  const lines: Line[] = [];
  for (const group of groups) {
    lines.push(group);
    for (const row of rows.filter((r) => r.group === group)) {
      const own = targets.filter((t) => t.group === group && t.subject === row.subject);
      const first = own[0];
      lines.push([
        `  ${row.subject}`,
        row.status === 'failed' ? '' : figureOf(row),
        detailsOf(row),
        first?.text ?? '',
        first ? verdict(first, quick) : '',
      ]);
      if (row.status === 'failed') lines.push(`    ${figureOf(row)}`);
      for (const more of own.slice(1)) lines.push(['', '', '', more.text, verdict(more, quick)]);
    }
  }
  const header: Line = ['', 'figure', 'details', 'ratio to baseline (target)', 'result'];
  const widths = [0, 0, 0, 0, 0];
  for (const line of [header, ...lines]) {
    if (typeof line === 'string') continue;
    for (const [index, cell] of line.entries()) widths[index] = Math.max(widths[index]!, cell.length);
  }
  return [header, ...lines]
    .map((line) =>
      typeof line === 'string'
        ? line
        : line
            .map((cell, index) => cell.padEnd(widths[index]!))
            .join('  ')
            .trimEnd(),
    )
    .join('\n');
}

function escapeCell(text: string): string {
  return text.replace(/\|/g, '\\|');
}

/**
 * The same table in Markdown, for the READMEs: one row per subject, its targets joined in one
 * cell; `groups` picks and orders the groups (all by default).
 */
export function formatMarkdown(
  rows: readonly ResultRow[],
  targets: readonly TargetResult[],
  quick: boolean,
  groups: readonly string[] = [...new Set(rows.map((row) => row.group))],
): string {
  const lines = [
    '| benchmark | subject | figure | details | ratio to baseline (target) | result |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const group of groups) {
    let first = true;
    for (const row of rows.filter((r) => r.group === group)) {
      const own = targets.filter((t) => t.group === group && t.subject === row.subject);
      lines.push(
        `| ${first ? escapeCell(group) : ''} | ${escapeCell(row.subject)} | ${escapeCell(figureOf(row))} | ${escapeCell(
          detailsOf(row),
        )} | ${own.map((t) => escapeCell(t.text)).join('<br>')} | ${own.map((t) => verdict(t, quick)).join('<br>')} |`,
      );
      first = false;
    }
  }
  return lines.join('\n');
}

/** Every target of a run in one short Markdown table: what was asked, what was measured. */
export function formatTargetsMarkdown(targets: readonly TargetResult[], quick: boolean): string {
  const lines = ['| benchmark | subject | measured (target) | result |', '| --- | --- | --- | --- |'];
  for (const target of targets) {
    lines.push(
      `| ${escapeCell(target.group)} | ${escapeCell(target.subject)} | ${escapeCell(target.text)} | ${verdict(target, quick)} |`,
    );
  }
  return lines.join('\n');
}
