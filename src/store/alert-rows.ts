/**
 * How detection's alerts land in the `alerts` table (schema.ts, version 2), for both writers:
 * the watch state (state-store.ts, commitObject) and the alert store (sqlite-alert-store.ts,
 * putAlerts, used by `scan --store`). One alert is stored once per id:
 *
 * - a new id is inserted open, with first_seen = last_seen = now, hits 1, version 1 and a
 *   `created` history entry;
 * - a known id is seen again: hits + 1 and last_seen = now, always; the detection fields (level,
 *   count, body and the list's columns) are replaced by the new alert's when they differ from
 *   the stored ones (ignoring the `update` flag), with one `seen_again` history entry. For a
 *   GuardDuty finding only a newer version (higher `service.count`, then later `updatedAt`)
 *   replaces the stored one; an older or equal version changes nothing but the sighting. The
 *   triage state (status, reason, assignee, tags, notes, version) is never touched.
 * - a newer GuardDuty finding also moves the alert to the end of the outbox (a new seq above
 *   every seq ever used), so every sink delivers the update, as the watch did before the store.
 *   Other alerts seen again are not delivered again.
 *
 * Synchronous, and called inside the caller's transaction.
 */
import type Database from 'better-sqlite3';
import type { Alert } from '../core/alert.ts';
import { levelRank } from '../core/levels.ts';

export type PutOutcome = 'inserted' | 'requeued' | 'seen';

/** True when the alert's GuardDuty finding version is newer than the stored alert's. */
export function newerFinding(alert: Alert, storedBody: string): boolean {
  let stored: Alert['guardduty'];
  try {
    stored = (JSON.parse(storedBody) as Alert).guardduty;
  } catch {
    return true;
  }
  const next = alert.guardduty;
  if (stored === undefined || next === undefined) return true;
  if (next.count !== stored.count) return next.count > stored.count;
  return (next.updated_at ?? '') > (stored.updated_at ?? '');
}

/** The body without the `update` flag (which says how it was emitted, not what it is). */
export function comparable(body: string): string {
  if (!body.includes('"update"')) return body;
  try {
    const value = JSON.parse(body) as Alert;
    delete value.update;
    return JSON.stringify(value);
  } catch {
    return body;
  }
}

/** What a `seen_again` history entry shows of the detection before and after. */
export function detectionSummary(level: string, count: number, guardduty: Alert['guardduty'] | undefined): string {
  const parts = [`level ${level}`, `count ${count}`];
  if (guardduty !== undefined) parts.push(`finding count ${guardduty.count}`, `updated ${guardduty.updated_at ?? 'unknown'}`);
  return parts.join(', ');
}

export function guardDutyOf(body: string): Alert['guardduty'] | undefined {
  try {
    return (JSON.parse(body) as Alert).guardduty;
  } catch {
    return undefined;
  }
}

interface ExistingRow {
  seq: number;
  level: string;
  count: number;
  body: string;
  techniques: string;
  tactics: string;
}

/** Prepared statements over one database; `put` is the whole decision for one alert. */
export class AlertRowWriter {
  private readonly existing: Database.Statement;
  private readonly insert: Database.Statement;
  private readonly seen: Database.Statement;
  private readonly insertBody: Database.Statement;
  private readonly replace: Database.Statement;
  private readonly nextSeq: Database.Statement;
  private readonly moveSeq: Database.Statement;
  private readonly bumpSequence: Database.Statement;
  private readonly insertAttack: Database.Statement;
  private readonly clearAttack: Database.Statement;
  private readonly history: Database.Statement;

  constructor(db: Database.Database) {
    this.existing = db.prepare("SELECT a.seq, a.level, a.count, COALESCE(b.body, '') AS body, a.techniques, a.tactics FROM alerts a LEFT JOIN alert_bodies b ON b.id = a.id WHERE a.id = ?");
    this.insert = db.prepare(
      `INSERT INTO alerts (id, rule_id, level, time, object, created_at, rule_name, rule_title, level_rank, source, account, region, actor, source_ip,
         event_ids, techniques, tactics, count, search, sort_time, first_seen, last_seen, hits, status, reason, assignee, tags, version, updated_at)
       VALUES (@id, @rule_id, @level, @time, @object, @created_at, @rule_name, @rule_title, @level_rank, @source, @account, @region, @actor, @source_ip,
         @event_ids, @techniques, @tactics, @count, @search, @sort_time, @now, @now, 1, 'open', NULL, NULL, '[]', 1, @now)`,
    );
    this.insertBody = db.prepare('INSERT INTO alert_bodies (id, body) VALUES (@id, @body) ON CONFLICT (id) DO UPDATE SET body = excluded.body');
    this.seen = db.prepare('UPDATE alerts SET hits = hits + 1, last_seen = @now WHERE id = @id');
    this.replace = db.prepare(
      `UPDATE alerts SET hits = hits + 1, last_seen = @now, rule_id = @rule_id, level = @level, time = @time, object = @object,
         rule_name = @rule_name, rule_title = @rule_title, level_rank = @level_rank, source = @source, account = @account, region = @region,
         actor = @actor, source_ip = @source_ip, event_ids = @event_ids, techniques = @techniques, tactics = @tactics, count = @count, search = @search, sort_time = @sort_time
       WHERE id = @id`,
    );
    // Above every seq ever handed out (AUTOINCREMENT's sqlite_sequence too): a seq is never reused.
    this.nextSeq = db.prepare("SELECT MAX(COALESCE((SELECT MAX(seq) FROM alerts), 0), COALESCE((SELECT seq FROM sqlite_sequence WHERE name = 'alerts'), 0)) + 1 AS seq");
    this.moveSeq = db.prepare('UPDATE alerts SET seq = ? WHERE id = ?');
    this.bumpSequence = db.prepare("UPDATE sqlite_sequence SET seq = ? WHERE name = 'alerts'");
    this.insertAttack = db.prepare('INSERT OR IGNORE INTO alert_attack (kind, value, alert_id) VALUES (?, ?, ?)');
    this.clearAttack = db.prepare('DELETE FROM alert_attack WHERE alert_id = ?');
    this.history = db.prepare('INSERT INTO alert_history (alert_id, at, actor, action, from_value, to_value) VALUES (?, ?, ?, ?, ?, ?)');
  }

  /** Stores one alert (its JSON text already made: alertJson) seen at `now` (ISO 8601). */
  put(alert: Alert, body: string, actor: string, object: string, now: string, nowMs: number): PutOutcome {
    const row = this.existing.get(alert.id) as ExistingRow | undefined;
    const eventIds = JSON.stringify(alert.event_ids);
    const columns = {
      id: alert.id,
      rule_id: alert.rule.id,
      level: alert.rule.level,
      time: alert.time,
      object,
      body,
      rule_name: alert.rule.name,
      rule_title: alert.rule.title,
      level_rank: Math.max(0, levelRank(alert.rule.level)),
      source: alert.source,
      account: alert.account,
      region: alert.region,
      actor: alert.actor,
      source_ip: alert.source_ip,
      event_ids: eventIds,
      search: [alert.rule.name ?? '', alert.rule.title ?? '', alert.rule.id, alert.actor ?? '', alert.source_ip ?? '', alert.account ?? '', eventIds].join('\n'),
      techniques: JSON.stringify(alert.attack.techniques),
      tactics: JSON.stringify(alert.attack.tactics),
      count: alert.count,
      sort_time: alert.time ?? '',
      now,
    };
    if (row === undefined) {
      const { body: _body, ...row } = columns;
      this.insert.run({ ...row, created_at: nowMs });
      this.insertBody.run({ id: alert.id, body });
      this.writeAttack(alert);
      this.history.run(alert.id, now, actor, 'created', null, 'open');
      return 'inserted';
    }
    const isFinding = alert.guardduty !== undefined;
    const newer = isFinding && newerFinding(alert, row.body);
    const changed = isFinding ? newer : row.body !== body && comparable(row.body) !== comparable(body);
    if (!changed) {
      this.seen.run({ id: alert.id, now });
      return 'seen';
    }
    const { body: _body, ...replaced } = columns;
    this.replace.run(replaced);
    this.insertBody.run({ id: alert.id, body });
    if (row.techniques !== columns.techniques || row.tactics !== columns.tactics) {
      this.clearAttack.run(alert.id);
      this.writeAttack(alert);
    }
    this.history.run(alert.id, now, actor, 'seen_again', detectionSummary(row.level, row.count, guardDutyOf(row.body)), detectionSummary(alert.rule.level, alert.count, alert.guardduty));
    if (!newer) return 'seen';
    const seq = (this.nextSeq.get() as { seq: number }).seq;
    this.moveSeq.run(seq, alert.id);
    this.bumpSequence.run(seq);
    return 'requeued';
  }

  private writeAttack(alert: Alert): void {
    for (const technique of alert.attack.techniques) this.insertAttack.run('technique', technique, alert.id);
    for (const tactic of alert.attack.tactics) this.insertAttack.run('tactic', tactic, alert.id);
  }
}
