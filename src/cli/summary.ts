import { thousands } from '../core/thousands.ts';
import type { ScanSummary } from '../scan/scan-run.ts';
import { SIGMA_LEVELS } from '../core/levels.ts';
import { MAX_JSON_DEPTH } from '../core/json-depth.ts';

function plural(count: number, word: string): string {
  return `${thousands(count)} ${word}${count === 1 ? '' : 's'}`;
}

function rate(records: number, ms: number): string {
  if (ms <= 0) return '';
  return `${thousands(Math.round((records * 1000) / ms))} records/s`;
}

/** The running line on a terminal: inputs, records, speed, alerts. */
export function progressLine(summary: Readonly<ScanSummary>, now: number): string {
  const elapsed = now - summary.startedAt;
  return `scanning: ${plural(summary.inputs, 'input')}, ${plural(summary.records, 'record')} (${rate(summary.records, elapsed)}), ${plural(summary.alerts, 'alert')}, ${plural(summary.inputErrors, 'error')}`;
}

/** What the CLI counts beside the scan's summary. */
export interface SummaryExtras {
  /** Records too deep to be written whole, written truncated in their alerts (TH_INPUT_LIMIT). */
  truncatedRecords?: number;
}

/**
 * The closing summary on stderr. Everything that was not scanned is counted here. Printed
 * through Diagnostics, which makes every line safe for a terminal.
 */
export function formatSummary(summary: Readonly<ScanSummary>, ruleCount: number, extras: SummaryExtras = {}): string {
  const levels = SIGMA_LEVELS.filter((level) => summary.alertsByLevel[level] > 0)
    .reverse()
    .map((level) => `${level} ${summary.alertsByLevel[level]}`)
    .join(', ');
  const parts = [
    `trailhound: ${plural(summary.records, 'record')} from ${plural(summary.inputs, 'input')} against ${plural(ruleCount, 'rule')} in ${(summary.durationMs / 1000).toFixed(2)}s`,
    `${plural(summary.alerts, 'alert')}${levels === '' ? '' : ` (${levels})`}`,
  ];
  if (summary.skipped > 0) parts.push(`${thousands(summary.skipped)} skipped (digests, control messages, sample findings, indicator lists)`);
  if (summary.outsideTimeRange > 0) parts.push(`${thousands(summary.outsideTimeRange)} outside --since/--until`);
  const truncated = extras.truncatedRecords ?? 0;
  if (truncated > 0) parts.push(`${plural(truncated, 'record')} nested deeper than ${MAX_JSON_DEPTH} levels, written truncated in alerts (TH_INPUT_LIMIT, see above)`);
  if (summary.inputErrors > 0) parts.push(`${plural(summary.inputErrors, 'input error')} in ${plural(summary.inputsWithErrors, 'input')} (see above)`);
  else if (truncated === 0) parts.push('no input errors');
  return parts.join('; ');
}
