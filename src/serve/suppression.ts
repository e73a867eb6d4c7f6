/**
 * "Suppress from this alert": a Sigma filter document (an allowlist, docs/correlation.md
 * "Allowlists") written from an alert: the rule it came from, and the principal, account,
 * source IP, GuardDuty finding type or matched indicator the user keys it on. Written into the
 * filters folder that `scan --filters` and `watch` load, recorded in the store
 * (addSuppression), and optionally closing the open alerts of that rule it matches.
 *
 * Values come from the log (attacker-controlled): each is written as a Sigma literal (`*`, `?`
 * and `\` escaped, `|cased`) through the `yaml` package's stringify (every string quoted), and
 * the written document is loaded back the way scan loads it, checked to name the rule and to
 * drop the alert's own events, before anything is recorded.
 */
import { randomUUID } from 'node:crypto';
import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { stringify } from 'yaml';
import type { LogRecord } from '../core/envelope.ts';
import { guardDutyRemoteIps } from '../formats/guardduty/fields.ts';
import { loadRuleSet } from '../pack/rule-set.ts';
import type { CompiledFilter } from '../sigma/filter.ts';
import { isCalendarDate } from '../sigma/filter.ts';
import type { AlertStore, StoredAlert, Suppression, TriageChange } from '../store/alert-store.ts';
import type { ServeContext } from './context.ts';
import { badRequest } from './http-error.ts';

export const SUPPRESS_KEYS = ['principal', 'account', 'source_ip', 'finding_type', 'indicator'] as const;
export type SuppressKey = (typeof SUPPRESS_KEYS)[number];

/** One thing a suppression can key on, read from the alert and its first event. */
export interface SuppressOption {
  key: SuppressKey;
  label: string;
  /** The event's field the filter selects on. */
  field: string;
  value: string;
}

export interface SuppressRequest {
  keys: readonly SuppressKey[];
  reason: string;
  /** YYYY-MM-DD: the filter applies through that day (UTC). Required. */
  expires: string;
  closeMatching: boolean;
  owner: string;
}

export interface SuppressPlan {
  id: string;
  rule: string;
  file: string;
  document: string;
  options: SuppressOption[];
  selection: SuppressOption[];
  /** Open and acknowledged alerts of the rule the filter matches (what close_matching closes). */
  matching: string[];
}

/** Expiry at most this far ahead: an allowlist is reviewed, not forgotten. */
const MAX_EXPIRY_DAYS = 366 * 2;
const MAX_REASON = 1000;

function stringAt(record: LogRecord | undefined, ...path: string[]): string | undefined {
  let current: unknown = record;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return typeof current === 'string' && current !== '' ? current : undefined;
}

/** What a suppression from this alert can key on (the alert's own values, mapped to the fields its events hold them in). */
export function suppressOptions(alert: StoredAlert): SuppressOption[] {
  const event = alert.events?.[0];
  const options: SuppressOption[] = [];
  const add = (key: SuppressKey, label: string, field: string | undefined, value: string | null | undefined): void => {
    if (field !== undefined && typeof value === 'string' && value !== '') options.push({ key, label, field, value });
  };
  switch (alert.source) {
    case 'cloudtrail': {
      const issuer = stringAt(event, 'userIdentity', 'sessionContext', 'sessionIssuer', 'arn');
      if (stringAt(event, 'userIdentity', 'type') === 'AssumedRole' && issuer !== undefined) add('principal', 'role (every session of it)', 'userIdentity.sessionContext.sessionIssuer.arn', issuer);
      else if (alert.actor !== null && stringAt(event, 'userIdentity', 'arn') === undefined && stringAt(event, 'userIdentity', 'invokedBy') === alert.actor) add('principal', 'principal (invoked by)', 'userIdentity.invokedBy', alert.actor);
      else add('principal', 'principal', 'userIdentity.arn', alert.actor);
      add('account', 'account', 'recipientAccountId', alert.account);
      add('source_ip', 'source IP', 'sourceIPAddress', alert.source_ip);
      break;
    }
    case 'guardduty': {
      const paths: string[][] = [
        ['resource', 'accessKeyDetails', 'userName'],
        ['resource', 'accessKeyDetails', 'principalId'],
        ['resource', 'instanceDetails', 'instanceId'],
      ];
      const path = paths.find((candidate) => stringAt(event, ...candidate) === alert.actor) ?? (alert.actor !== null && /^i-[0-9a-f]+$/.test(alert.actor) ? paths[2] : paths[0]);
      add('principal', 'principal or instance', (path as string[]).join('.'), alert.actor);
      add('account', 'account', 'accountId', alert.account);
      const remote = event === undefined ? undefined : guardDutyRemoteIps(event).find((candidate) => candidate.ip === alert.source_ip);
      add('source_ip', 'remote IP', remote?.field, alert.source_ip);
      add('finding_type', 'finding type', 'type', alert.guardduty?.type);
      break;
    }
    case 'vpcflow': {
      add('principal', 'instance or interface', stringAt(event, 'instance-id') === alert.actor ? 'instance-id' : 'interface-id', alert.actor);
      add('account', 'account', 'account-id', alert.account);
      add('source_ip', 'source address', 'srcaddr', alert.source_ip);
      break;
    }
  }
  if (alert.cti !== undefined) add('indicator', `matched indicator (${alert.cti.field})`, alert.cti.field, alert.cti.matched);
  return options;
}

/** A value as a Sigma literal: wildcards and the escape character taken literally. */
export function sigmaLiteral(value: string): string {
  return value.replace(/[\\*?]/g, (character) => `\\${character}`);
}

function slug(text: string): string {
  return (
    text
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 60) || 'rule'
  );
}

/** The rule reference a filter uses: the name (stable, what users write), else the id. */
export function ruleReference(alert: StoredAlert): string {
  return alert.rule.name ?? alert.rule.id;
}

function checkRequest(request: SuppressRequest, now: Date): void {
  if (typeof request.reason !== 'string' || request.reason.trim() === '') throw badRequest('a suppression needs a reason: why this activity is expected');
  if (request.reason.length > MAX_REASON) throw badRequest(`the reason is longer than ${MAX_REASON} characters`);
  if (typeof request.expires !== 'string' || !isCalendarDate(request.expires)) throw badRequest('a suppression needs an expiry date written YYYY-MM-DD');
  const today = now.toISOString().slice(0, 10);
  if (request.expires < today) throw badRequest(`the expiry ${request.expires} is in the past`);
  const latest = new Date(now.getTime() + MAX_EXPIRY_DAYS * 86_400_000).toISOString().slice(0, 10);
  if (request.expires > latest) throw badRequest(`the expiry is at most ${MAX_EXPIRY_DAYS} days ahead (${latest}): review allowlists, do not forget them`);
  if (request.keys.length === 0) throw badRequest('choose at least one thing to key the suppression on (principal, account, source IP...)');
}

/** The filter document's text. */
export function filterDocument(alert: StoredAlert, id: string, selection: readonly SuppressOption[], request: SuppressRequest): string {
  const what = selection.map((option) => `${option.label} ${option.value}`).join(', ');
  const fields: Record<string, string> = {};
  for (const option of selection) fields[`${option.field}|cased`] = sigmaLiteral(option.value);
  const document = {
    title: `Suppress ${alert.rule.title} for ${what}`.slice(0, 300),
    id,
    description: `Written by trailhound serve from alert ${alert.id}.`,
    owner: request.owner,
    reason: request.reason.trim(),
    expires: request.expires,
    logsource: { product: 'aws', service: alert.source },
    filter: { rules: [ruleReference(alert)], selection: fields, condition: 'not selection' },
  };
  return stringify(document, { defaultStringType: 'QUOTE_DOUBLE', defaultKeyType: 'PLAIN', lineWidth: 0 });
}

/** Loads a written filter document the way scan loads it: errors about it are a 400, and it must drop the alert's own events. */
async function loadBack(context: ServeContext, file: string, id: string, alert: StoredAlert): Promise<CompiledFilter> {
  const set = await loadRuleSet({ ...context.ruleRequest, filterPaths: [file], now: context.now() });
  const mine = set.errors.filter((error) => error.location.includes(basename(file)));
  if (mine.length > 0) throw badRequest(`the suppression would not load: ${mine.map((error) => `${error.code} ${error.message}`).join('; ')}`);
  const filter = set.filters.find((candidate) => candidate.id === id);
  if (filter === undefined) throw badRequest('the suppression did not load as a filter');
  for (const event of alert.events ?? []) {
    if (filter.match(event)) throw badRequest("the suppression would not drop this alert's own event: choose other fields");
  }
  return filter;
}

/** Alert-level equality for alerts stored without events (--no-events). */
function sameValues(alert: StoredAlert, selection: readonly SuppressOption[]): boolean {
  return selection.every((option) => {
    switch (option.key) {
      case 'principal':
        return alert.actor === option.value;
      case 'account':
        return alert.account === option.value;
      case 'source_ip':
        return alert.source_ip === option.value;
      case 'finding_type':
        return alert.guardduty?.type === option.value;
      case 'indicator':
        return alert.cti?.matched === option.value;
    }
    return false;
  });
}

/** Open and acknowledged alerts of the rule that the filter drops (every event dropped). */
async function matchingAlerts(store: AlertStore, alert: StoredAlert, filter: CompiledFilter, selection: readonly SuppressOption[]): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < 200; page++) {
    const result = await store.list({ filter: { rule: [alert.rule.id], status: ['open', 'acknowledged'] }, limit: 500, sort: 'time', ...(cursor === undefined ? {} : { cursor }) });
    for (const candidate of result.alerts) {
      const events = candidate.events ?? [];
      const matches = events.length > 0 ? events.every((event) => !filter.match(event)) : sameValues(candidate, selection);
      if (matches) ids.push(candidate.id);
    }
    if (result.next_cursor === null) break;
    cursor = result.next_cursor;
  }
  return ids;
}

export const CLOSE_BY_SUPPRESSION = (id: string, reason: string): TriageChange => ({ status: 'closed', reason: 'benign_positive', note: `Suppressed by filter ${id}: ${reason}`.slice(0, 2000) });

/**
 * Plans (dryRun) or makes a suppression from an alert. The document is always written to a
 * scratch file and loaded back first; only a real run moves it into the filters folder, records
 * it in the store and (closeMatching) closes the matching alerts.
 */
export async function suppressFromAlert(context: ServeContext, alert: StoredAlert, request: SuppressRequest, dryRun: boolean): Promise<{ plan: SuppressPlan; suppression?: Omit<Suppression, 'suppressed'>; closed: number }> {
  checkRequest(request, context.now());
  const options = suppressOptions(alert);
  const selection: SuppressOption[] = [];
  for (const key of new Set(request.keys)) {
    const option = options.find((candidate) => candidate.key === key);
    if (option === undefined) throw badRequest(`this alert has no ${key} to key a suppression on`);
    selection.push(option);
  }
  const id = randomUUID();
  const rule = ruleReference(alert);
  const document = filterDocument(alert, id, selection, request);
  await mkdir(context.filtersDir, { recursive: true });
  const file = join(context.filtersDir, `${slug(rule)}-${id.slice(0, 8)}.yml`);
  // Hidden (scan passes over dot files in folders) until it has loaded back.
  const scratch = join(context.filtersDir, `.pending-${id}.yml`);
  await writeFile(scratch, document, { flag: 'wx', mode: 0o644 });
  let filter: CompiledFilter;
  try {
    filter = await loadBack(context, scratch, id, alert);
  } catch (error) {
    await rm(scratch, { force: true });
    throw error;
  }
  const matching = await matchingAlerts(context.store, alert, filter, selection);
  const plan: SuppressPlan = { id, rule, file, document, options, selection, matching };
  if (dryRun) {
    await rm(scratch, { force: true });
    return { plan, closed: 0 };
  }
  await rename(scratch, file);
  const suppression = { id, rule, file, created_at: context.now().toISOString(), created_by: request.owner, reason: request.reason.trim(), expires: request.expires };
  try {
    await context.store.addSuppression(suppression);
  } catch (error) {
    await rm(file, { force: true });
    throw error;
  }
  let closed = 0;
  if (request.closeMatching && matching.length > 0) {
    closed = (await context.store.bulkUpdate({ ids: matching }, CLOSE_BY_SUPPRESSION(id, request.reason.trim()), request.owner)).changed;
  }
  return { plan, suppression, closed };
}
