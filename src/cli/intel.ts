import { Command, Option } from 'commander';
import { formatLocatedError, located, type LocatedError } from '../core/errors.ts';
import { Diagnostics } from './diagnostics.ts';
import { terminalText } from '../core/terminal-text.ts';
import { EXIT } from './exit-codes.ts';
import { DEFAULT_MAX_AGE, DEFAULT_MAX_PREFIX, loadCtiFeeds, MAX_PREFIX_HELP, parseMaxAge, parseMaxPrefix, type FeedReport } from './intel-feeds.ts';

interface CheckFlags {
  ctiMaxAge: string;
  ctiMaxPrefix: string;
  format: 'table' | 'jsonl';
  listUnsupported: boolean;
}

const COLUMNS = ['ipv4', 'ipv6', 'cidr', 'domain', 'pending', 'expired', 'revoked', 'unsupported', 'invalid', 'refused', 'skipped'] as const;

function row(report: FeedReport): Record<(typeof COLUMNS)[number], number> {
  const { stats, kinds } = report;
  return { ...kinds, pending: stats.pending, expired: stats.expired, revoked: stats.revoked, unsupported: stats.unsupported, invalid: stats.invalid, refused: stats.refused, skipped: stats.skipped };
}

/** The feed table on stdout: feed names are file names (any bytes), shown escaped (terminal-text.ts). */
function printTable(reports: readonly FeedReport[]): void {
  const names = reports.map((report) => terminalText(report.stats.feed));
  const nameWidth = Math.max(4, ...names.map((name) => name.length));
  const lines = [`${'FEED'.padEnd(nameWidth)}  FORMAT  ${COLUMNS.map((column) => column.toUpperCase().padStart(column.length)).join('  ')}`];
  const totals = Object.fromEntries(COLUMNS.map((column) => [column, 0])) as Record<(typeof COLUMNS)[number], number>;
  for (const [i, report] of reports.entries()) {
    const values = row(report);
    for (const column of COLUMNS) totals[column] += values[column];
    lines.push(`${(names[i] as string).padEnd(nameWidth)}  ${terminalText(report.stats.format ?? '-').padEnd(6)}  ${COLUMNS.map((column) => String(values[column]).padStart(column.length)).join('  ')}`);
  }
  if (reports.length > 1) lines.push(`${'total'.padEnd(nameWidth)}  ${''.padEnd(6)}  ${COLUMNS.map((column) => String(totals[column]).padStart(column.length)).join('  ')}`);
  process.stdout.write(lines.join('\n') + '\n');
}

export function intelCommand(setExitCode: (code: number) => void): Command {
  const command = new Command('intel').description('Threat-intelligence feeds (plain lists, CSV, STIX 2.1, MISP)');

  command
    .command('check')
    .description('Validate feeds: indicators loaded by kind, left out (expired, revoked, unsupported), located errors')
    .argument('<feeds...>', 'feed files (gzip or not)')
    .option('--cti-max-age <duration>', 'lifetime of indicators without an expiry date: 30d, 12h, ... or unbounded', DEFAULT_MAX_AGE)
    .option('--cti-max-prefix <limits>', MAX_PREFIX_HELP, DEFAULT_MAX_PREFIX)
    .addOption(new Option('-f, --format <format>', 'output format').choices(['table', 'jsonl']).default('table'))
    .option('--list-unsupported', 'also list each indicator of a kind trailhound does not match (URL, hash...) on stderr', false)
    .action(async (feeds: string[], flags: CheckFlags) => {
      const diagnostics = new Diagnostics({ quiet: false });
      const maxAgeMs = parseMaxAge(flags.ctiMaxAge);
      if (maxAgeMs === undefined) {
        diagnostics.error(located('TH_CONFIG', `--cti-max-age ${JSON.stringify(flags.ctiMaxAge)} is not a duration like 30d, or unbounded`, '--cti-max-age'));
        setExitCode(EXIT.RULE_OR_CONFIG_ERROR);
        return;
      }
      const limits = parseMaxPrefix(flags.ctiMaxPrefix);
      if (typeof limits === 'string') {
        diagnostics.error(located('TH_CONFIG', `--cti-max-prefix: ${limits}`, '--cti-max-prefix'));
        setExitCode(EXIT.RULE_OR_CONFIG_ERROR);
        return;
      }
      let errors = 0;
      const onUnsupported = flags.listUnsupported ? (notice: LocatedError): void => diagnostics.warn(formatLocatedError(notice)) : undefined;
      const { reports } = await loadCtiFeeds(feeds, { maxAgeMs, limits, ...(onUnsupported === undefined ? {} : { onUnsupported }) }, (error) => {
        errors++;
        diagnostics.error(error);
      });
      if (flags.format === 'jsonl') {
        for (const report of reports) process.stdout.write(JSON.stringify({ feed: report.stats.feed, path: report.stats.path, format: report.stats.format ?? null, ...row(report) }) + '\n');
      } else {
        printTable(reports);
      }
      setExitCode(errors > 0 ? EXIT.RULE_OR_CONFIG_ERROR : EXIT.OK);
    });

  return command;
}
