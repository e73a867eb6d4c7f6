/**
 * `trailhound alerts --store SPEC [--job NAME] [filters]`: the stored alerts as the scan wrote
 * them (jsonl: one alert JSON per line, the scan's contract; or the table), oldest first.
 * `--job` lists the alerts of one cluster scan job (docs/cluster.md), whichever node stored them.
 */
import { Command, Option } from 'commander';
import type { Alert } from '../core/alert.ts';
import { SIGMA_LEVELS, type SigmaLevel } from '../core/levels.ts';
import { TRIAGE_STATUSES, type AlertFilter, type StoredAlert, type TriageStatus } from '../store/alert-store.ts';
import { createSink } from '../sinks/index.ts';
import { sinkAlert } from '../sinks/sink.ts';
import { EXIT } from './exit-codes.ts';
import { storeOption, withStore, type StoreFlags } from './with-store.ts';

interface AlertsFlags extends StoreFlags {
  job?: string;
  status: string[];
  level: string[];
  rule: string[];
  format?: 'jsonl' | 'table';
  limit?: string;
}

const collect = (value: string, previous: string[]): string[] => [...previous, ...value.split(',').map((item) => item.trim()).filter((item) => item !== '')];

/** The detection as the scan emitted it: the stored alert without its triage state. */
function detectionOf(stored: StoredAlert): Alert {
  const { status: _status, reason: _reason, assignee: _assignee, tags: _tags, notes: _notes, version: _version, first_seen: _first, last_seen: _last, hits: _hits, ...alert } = stored;
  return alert as Alert;
}

export function alertsCommand(setExitCode: (code: number) => void): Command {
  return new Command('alerts')
    .description('List the alerts of an alert store (all statuses unless --status), oldest first; --job: the alerts of one cluster scan job')
    .addOption(storeOption())
    .option('--job <name>', 'only the alerts of this scan job (scan --job; PostgreSQL stores)')
    .option('--status <status>', `only alerts in these triage states (${TRIAGE_STATUSES.join(', ')}; repeatable or comma-separated)`, collect, [])
    .option('--level <level>', `only these levels (${SIGMA_LEVELS.join(', ')}; repeatable or comma-separated)`, collect, [])
    .option('--rule <rule>', 'only these rules, by id or name (repeatable or comma-separated)', collect, [])
    .addOption(new Option('--format <format>', 'output format (default: table on a terminal, jsonl otherwise)').choices(['jsonl', 'table']))
    .option('--limit <n>', 'at most this many alerts')
    .action(async (flags: AlertsFlags) => {
      setExitCode(
        await withStore(flags.store, async (store, diagnostics) => {
          const limit = flags.limit === undefined ? Number.POSITIVE_INFINITY : /^[1-9][0-9]{0,8}$/.test(flags.limit.trim()) ? Number(flags.limit.trim()) : undefined;
          if (limit === undefined) {
            diagnostics.error({ code: 'TH_CONFIG', message: `--limit ${JSON.stringify(flags.limit)} is not a positive number`, location: '--limit' });
            return EXIT.RULE_OR_CONFIG_ERROR;
          }
          const filter: AlertFilter = {
            status: flags.status.length > 0 ? (flags.status as TriageStatus[]) : TRIAGE_STATUSES,
            ...(flags.level.length > 0 ? { level: flags.level as SigmaLevel[] } : {}),
            ...(flags.rule.length > 0 ? { rule: flags.rule } : {}),
            ...(flags.job === undefined ? {} : { job: flags.job }),
          };
          const format = flags.format ?? (process.stdout.isTTY === true ? 'table' : 'jsonl');
          const sink = createSink(format, process.stdout, { colour: process.stdout.isTTY === true });
          let cursor: string | undefined;
          let shown = 0;
          let total: number;
          do {
            const page = await store.list({ filter, sort: 'time', limit: Math.min(500, limit - shown), ...(cursor === undefined ? {} : { cursor }) });
            total = page.total;
            if (page.alerts.length > 0) await sink.deliver(page.alerts.map((stored) => sinkAlert(detectionOf(stored))));
            shown += page.alerts.length;
            cursor = page.next_cursor ?? undefined;
          } while (cursor !== undefined && shown < limit);
          await sink.close();
          diagnostics.info(`${shown.toLocaleString('en-US')} of ${total.toLocaleString('en-US')} alerts${flags.job === undefined ? '' : ` of job ${flags.job}`}`);
          return EXIT.OK;
        }),
      );
    });
}
