/**
 * The alert store contract (src/store/alert-store.ts) as data: every case runs against any
 * backend through `runAlertStoreContract(name, factory)`. SQLite runs it in
 * sqlite-alert-store.test.ts; the PostgreSQL backend (issue 14) runs the same cases.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Alert } from '../../src/core/alert.ts';
import { StoreError, type AlertFilter, type AlertSort, type AlertStore, type HistoryEntry, type StoredAlert } from '../../src/store/alert-store.ts';

export interface ContractBackend {
  store: AlertStore;
  /** Called after the case, whatever its outcome. */
  dispose?: () => Promise<void>;
}

export type BackendFactory = () => Promise<ContractBackend>;

export interface ContractCase {
  name: string;
  run: (store: AlertStore) => Promise<void>;
}

const T0 = new Date('2026-11-05T12:00:00.000Z');
const later = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

/** A detection alert; overrides go on top. */
export function makeAlert(id: string, overrides: Partial<Alert> = {}): Alert {
  return {
    id,
    time: '2026-11-05T10:00:00.000Z',
    rule: { id: 'rule-1', name: 'aws-ct-rule-one', title: 'Rule one', level: 'high' },
    attack: { techniques: ['T1098.001'], tactics: ['persistence'] },
    source: 'cloudtrail',
    account: '111122223333',
    region: 'us-east-1',
    actor: 'arn:aws:iam::111122223333:user/alice',
    source_ip: '203.0.113.7',
    event_ids: [`ev-${id}`],
    count: 1,
    ...overrides,
  };
}

function finding(id: string, count: number, updatedAt: string, severity = 5): Alert {
  return makeAlert(id, {
    source: 'guardduty',
    rule: { id: 'gd-pass', name: 'aws-gd-finding-passthrough', title: 'GuardDuty finding', level: 'medium' },
    attack: { techniques: [], tactics: [] },
    guardduty: { id: `f-${id}`, type: 'Recon:EC2/PortProbeUnprotectedPort', severity, count, updated_at: updatedAt },
    count,
  });
}

async function rejects(promise: Promise<unknown>, code: StoreError['code'], status: number): Promise<void> {
  await assert.rejects(promise, (error: unknown) => {
    assert.ok(error instanceof StoreError, `a StoreError, not ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.status, status);
    return true;
  });
}

async function must(store: AlertStore, id: string): Promise<StoredAlert> {
  const alert = await store.get(id);
  assert.ok(alert !== undefined, `alert ${id} is stored`);
  return alert;
}

async function ids(store: AlertStore, filter: AlertFilter, sort?: AlertSort): Promise<string[]> {
  const page = await store.list({ filter, limit: 500, ...(sort === undefined ? {} : { sort }) });
  return page.alerts.map((alert) => alert.id);
}

const sorted = (values: string[]): string[] => [...values].sort();

/** A small varied set: a1..a6 over rules, levels, sources, accounts, actors, times. */
async function seed(store: AlertStore): Promise<void> {
  await store.putAlerts(
    [
      makeAlert('a1', { time: '2026-11-01T00:00:00.000Z', rule: { id: 'rule-1', name: 'aws-ct-rule-one', title: 'Rule one', level: 'high' } }),
      makeAlert('a2', { time: '2026-11-02T00:00:00.000Z', rule: { id: 'rule-2', name: 'aws-ct-rule-two', title: 'Access key for another user', level: 'critical' }, attack: { techniques: ['T1098'], tactics: ['persistence', 'privilege-escalation'] }, actor: 'arn:aws:iam::111122223333:user/bob' }),
      makeAlert('a3', { time: '2026-11-03T00:00:00.000Z', rule: { id: 'rule-3', name: 'aws-ct-rule_100%', title: 'Discovery burst', level: 'low' }, attack: { techniques: ['T1087.004'], tactics: ['discovery'] }, account: '444455556666', region: 'eu-west-1', source_ip: '198.51.100.9' }),
      makeAlert('a4', { time: '2026-11-04T00:00:00.000Z', source: 'vpcflow', rule: { id: 'rule-4', name: 'aws-vpc-cti-match', title: 'Flow to a known bad address', level: 'medium' }, attack: { techniques: [], tactics: [] }, actor: 'i-0abc', event_ids: ['s3://b/flow.log.gz#17'] }),
      finding('a5', 1, '2026-11-05T00:00:00Z'),
      makeAlert('a6', { time: null, rule: { id: 'rule-1', name: 'aws-ct-rule-one', title: 'Rule one', level: 'informational' } }),
    ],
    'scan',
    T0,
  );
}

export const CONTRACT_CASES: readonly ContractCase[] = [
  {
    name: 'putAlerts inserts new alerts open, once each, with a created history entry by the actor',
    run: async (store) => {
      assert.deepEqual(await store.putAlerts([makeAlert('n1'), makeAlert('n2')], 'scan', T0), { inserted: 2, updated: 0 });
      const alert = await must(store, 'n1');
      assert.equal(alert.status, 'open');
      assert.equal(alert.reason, null);
      assert.equal(alert.assignee, null);
      assert.deepEqual(alert.tags, []);
      assert.deepEqual(alert.notes, []);
      assert.equal(alert.version, 1);
      assert.equal(alert.hits, 1);
      assert.equal(alert.first_seen, T0.toISOString());
      assert.equal(alert.last_seen, T0.toISOString());
      assert.equal(alert.rule.name, 'aws-ct-rule-one');
      assert.deepEqual(alert.event_ids, ['ev-n1']);
      const history = await store.history('n1');
      assert.deepEqual(history.map(({ action, actor, from, to }) => ({ action, actor, from, to })), [{ action: 'created', actor: 'scan', from: null, to: 'open' }]);
      assert.equal(await store.get('unknown'), undefined);
    },
  },
  {
    name: 'a job filter on a store where no scan job ran matches nothing (lists and bulk changes alike), the other filters as before',
    run: async (store) => {
      await store.putAlerts([makeAlert('j1'), makeAlert('j2')], 'scan', T0);
      const page = await store.list({ filter: { job: 'nightly' } });
      assert.equal(page.total, 0);
      assert.deepEqual(page.alerts, []);
      assert.equal(await store.bulkPreview({ filter: { job: 'nightly' } }, { status: 'acknowledged' }), 0);
      assert.equal((await store.list({ filter: {} })).total, 2);
    },
  },
  {
    name: 'a re-put never duplicates: hits and last_seen move, first_seen and the history stay (identical alert)',
    run: async (store) => {
      await store.putAlerts([makeAlert('r1')], 'scan', T0);
      assert.deepEqual(await store.putAlerts([makeAlert('r1')], 'scan', later(5)), { inserted: 0, updated: 1 });
      assert.deepEqual(await store.putAlerts([makeAlert('r1'), makeAlert('r1')], 'watch', later(10)), { inserted: 0, updated: 2 });
      const alert = await must(store, 'r1');
      assert.equal(alert.hits, 4);
      assert.equal(alert.first_seen, T0.toISOString());
      assert.equal(alert.last_seen, later(10).toISOString());
      assert.equal(alert.version, 1, 'detection does not bump the triage version');
      assert.equal((await store.list({ filter: {} })).total, 1);
      assert.deepEqual((await store.history('r1')).map((entry) => entry.action), ['created'], 'an identical re-put writes no history');
    },
  },
  {
    name: 'a re-put never resets triage state (status, reason, assignee, tags, notes, version)',
    run: async (store) => {
      await store.putAlerts([makeAlert('t1')], 'scan', T0);
      let alert = await store.update('t1', 1, { assignee: 'carol', tags_add: ['ticket-7'], note: 'looked at it' }, 'carol');
      alert = await store.update('t1', alert.version, { status: 'closed', reason: 'false_positive' }, 'carol');
      await store.putAlerts([makeAlert('t1', { count: 3 })], 'scan', later(1));
      const after = await must(store, 't1');
      assert.equal(after.status, 'closed');
      assert.equal(after.reason, 'false_positive');
      assert.equal(after.assignee, 'carol');
      assert.deepEqual(after.tags, ['ticket-7']);
      assert.equal(after.notes.length, 1);
      assert.equal(after.version, alert.version);
      assert.equal(after.count, 3, 'the detection fields are updated');
      assert.deepEqual(await ids(store, {}), [], 'a closed alert stays out of the default list after a re-fire');
    },
  },
  {
    name: 'a changed detection (count, level) replaces the stored one with one seen_again entry',
    run: async (store) => {
      await store.putAlerts([makeAlert('d1')], 'watch', T0);
      await store.putAlerts([makeAlert('d1', { count: 4, rule: { id: 'rule-1', name: 'aws-ct-rule-one', title: 'Rule one', level: 'critical' } })], 'watch', later(1));
      const alert = await must(store, 'd1');
      assert.equal(alert.count, 4);
      assert.equal(alert.rule.level, 'critical');
      assert.deepEqual(await ids(store, { level: ['critical'] }), ['d1']);
      assert.deepEqual(await ids(store, { level: ['high'] }), []);
      const history = await store.history('d1');
      assert.deepEqual(history.map((entry) => entry.action), ['created', 'seen_again']);
      assert.match(history[1]?.from ?? '', /count 1/);
      assert.match(history[1]?.to ?? '', /count 4/);
      assert.equal(history[1]?.actor, 'watch');
    },
  },
  {
    name: 'GuardDuty: the newer finding version wins; an older or equal one changes only the sighting',
    run: async (store) => {
      await store.putAlerts([finding('g1', 2, '2026-11-05T10:00:00Z')], 'watch', T0);
      await store.putAlerts([finding('g1', 5, '2026-11-05T11:00:00Z', 8)], 'watch', later(1));
      await store.putAlerts([finding('g1', 3, '2026-11-05T10:30:00Z', 2)], 'watch', later(2));
      await store.putAlerts([finding('g1', 5, '2026-11-05T09:00:00Z', 2)], 'watch', later(3));
      const alert = await must(store, 'g1');
      assert.equal(alert.guardduty?.count, 5);
      assert.equal(alert.guardduty?.severity, 8);
      assert.equal(alert.guardduty?.updated_at, '2026-11-05T11:00:00Z');
      assert.equal(alert.hits, 4);
      assert.equal(alert.last_seen, later(3).toISOString());
      assert.deepEqual((await store.history('g1')).map((entry) => entry.action), ['created', 'seen_again']);
      assert.equal((await store.list({ filter: { status: [] } })).total, 1);
    },
  },
  {
    name: 'status goes open -> acknowledged -> closed (with a reason) -> open (reason cleared); each change bumps the version by one',
    run: async (store) => {
      await store.putAlerts([makeAlert('s1')], 'scan', T0);
      let alert = await store.update('s1', 1, { status: 'acknowledged' }, 'alice');
      assert.equal(alert.status, 'acknowledged');
      assert.equal(alert.version, 2);
      alert = await store.update('s1', 2, { status: 'closed', reason: 'true_positive', note: 'rotated the key' }, 'alice');
      assert.equal(alert.status, 'closed');
      assert.equal(alert.reason, 'true_positive');
      assert.equal(alert.version, 3);
      assert.deepEqual(alert.notes.map((note) => [note.author, note.text]), [['alice', 'rotated the key']]);
      alert = await store.update('s1', 3, { reason: 'duplicate' }, 'bob');
      assert.equal(alert.reason, 'duplicate', 'a closed alert can change its reason');
      alert = await store.update('s1', 4, { status: 'open' }, 'bob');
      assert.equal(alert.status, 'open');
      assert.equal(alert.reason, null, 'reopening clears the reason');
      assert.equal(alert.version, 5);
      alert = await store.update('s1', 5, { status: 'closed', reason: 'other' }, 'bob');
      assert.equal(alert.status, 'closed', 'open -> closed directly');
      const history = await store.history('s1');
      assert.deepEqual(
        history.map(({ action, from, to, actor }) => [action, from, to, actor]),
        [
          ['created', null, 'open', 'scan'],
          ['status', 'open', 'acknowledged', 'alice'],
          ['status', 'acknowledged', 'closed', 'alice'],
          ['reason', null, 'true_positive', 'alice'],
          ['note_added', null, 'rotated the key', 'alice'],
          ['reason', 'true_positive', 'duplicate', 'bob'],
          ['status', 'closed', 'open', 'bob'],
          ['reason', 'duplicate', null, 'bob'],
          ['status', 'open', 'closed', 'bob'],
          ['reason', null, 'other', 'bob'],
        ],
      );
      assert.ok(history.every((entry) => entry.alert_id === 's1' && !Number.isNaN(Date.parse(entry.at))));
    },
  },
  {
    name: 'invalid changes are refused (400) and nothing is applied',
    run: async (store) => {
      await store.putAlerts([makeAlert('v1')], 'scan', T0);
      const invalidChanges: unknown[] = [
        { status: 'closed' },
        { status: 'closed', reason: 'because' },
        { status: 'resolved' },
        { status: 'acknowledged', reason: 'false_positive' },
        { reason: 'false_positive' },
        { note: '' },
        { tags_add: [''] },
        { tags_add: ['x'], tags_remove: ['x'] },
        { notes_remove: [999] },
        { assignee: 42 },
      ];
      for (const change of invalidChanges) {
        await rejects(store.update('v1', 1, change as never, 'alice'), 'TH_STORE_INVALID', 400);
      }
      await store.update('v1', 1, { status: 'closed', reason: 'benign_positive' }, 'alice');
      await rejects(store.update('v1', 2, { status: 'acknowledged' }, 'alice'), 'TH_STORE_INVALID', 400);
      const alert = await must(store, 'v1');
      assert.equal(alert.version, 2);
      assert.equal(alert.status, 'closed');
      assert.deepEqual(alert.tags, []);
      assert.deepEqual(alert.notes, []);
      assert.deepEqual((await store.history('v1')).map((entry) => entry.action), ['created', 'status', 'reason']);
    },
  },
  {
    name: 'a stale version is refused (409) and nothing of the change is applied',
    run: async (store) => {
      await store.putAlerts([makeAlert('c1')], 'scan', T0);
      await store.update('c1', 1, { status: 'acknowledged' }, 'alice');
      await rejects(store.update('c1', 1, { status: 'closed', reason: 'false_positive', tags_add: ['fp'], note: 'stale', assignee: 'bob' }, 'bob'), 'TH_STORE_CONFLICT', 409);
      await rejects(store.update('c1', 3, { tags_add: ['future'] }, 'bob'), 'TH_STORE_CONFLICT', 409);
      const alert = await must(store, 'c1');
      assert.equal(alert.status, 'acknowledged');
      assert.equal(alert.version, 2);
      assert.equal(alert.assignee, null);
      assert.deepEqual(alert.tags, []);
      assert.deepEqual(alert.notes, []);
      assert.deepEqual(await ids(store, { tag: 'fp' }), []);
      assert.deepEqual((await store.history('c1')).map((entry) => entry.action), ['created', 'status']);
    },
  },
  {
    name: 'an unknown id is 404 for update and history',
    run: async (store) => {
      await rejects(store.update('nope', 1, { status: 'acknowledged' }, 'alice'), 'TH_STORE_NOT_FOUND', 404);
      await rejects(store.history('nope'), 'TH_STORE_NOT_FOUND', 404);
    },
  },
  {
    name: 'tags, notes and the assignee are added and removed one by one, each with its history entry',
    run: async (store) => {
      await store.putAlerts([makeAlert('x1'), makeAlert('x2')], 'scan', T0);
      let alert = await store.update('x1', 1, { tags_add: ['ticket-1', 'prod'], assignee: 'dana', note: 'first' }, 'dana');
      assert.deepEqual(alert.tags, ['ticket-1', 'prod']);
      assert.equal(alert.assignee, 'dana');
      alert = await store.update('x1', alert.version, { tags_add: ['prod', 'later'], tags_remove: ['ticket-1'], note: 'second' }, 'erin');
      assert.deepEqual(alert.tags, ['prod', 'later'], 'tags are added and removed, not replaced');
      assert.deepEqual(alert.notes.map((note) => note.text), ['first', 'second']);
      const first = alert.notes[0]?.id as number;
      alert = await store.update('x1', alert.version, { notes_remove: [first], assignee: null }, 'erin');
      assert.deepEqual(alert.notes.map((note) => note.text), ['second']);
      assert.equal(alert.assignee, null);
      assert.equal(alert.version, 4);
      const x2 = await store.update('x2', 1, { tags_add: ['prod'] }, 'erin');
      await rejects(store.update('x2', x2.version, { notes_remove: [first] }, 'erin'), 'TH_STORE_INVALID', 400);
      assert.deepEqual(sorted(await ids(store, { tag: 'prod' })), ['x1', 'x2']);
      assert.deepEqual(await ids(store, { tag: 'ticket-1' }), []);
      assert.deepEqual(await ids(store, { assignee: 'dana' }), []);
      const actions = (await store.history('x1')).slice(1).map(({ action, from, to }) => [action, from, to]);
      assert.deepEqual(actions, [
        ['assignee', null, 'dana'],
        ['tag_added', null, 'ticket-1'],
        ['tag_added', null, 'prod'],
        ['note_added', null, 'first'],
        ['tag_added', null, 'later'],
        ['tag_removed', 'ticket-1', null],
        ['note_added', null, 'second'],
        ['assignee', 'dana', null],
        ['note_removed', 'first', null],
      ]);
    },
  },
  {
    name: 'a change that changes nothing leaves the version and the history alone',
    run: async (store) => {
      await store.putAlerts([makeAlert('z1')], 'scan', T0);
      const alert = await store.update('z1', 1, { status: 'open', tags_remove: ['absent'], assignee: null }, 'alice');
      assert.equal(alert.version, 1);
      assert.deepEqual((await store.history('z1')).map((entry) => entry.action), ['created']);
    },
  },
  {
    name: 'the history is append-only: later changes and re-puts never rewrite earlier entries',
    run: async (store) => {
      await store.putAlerts([makeAlert('h1')], 'scan', T0);
      let alert = await store.update('h1', 1, { status: 'acknowledged', tags_add: ['a'] }, 'alice');
      const before: HistoryEntry[] = await store.history('h1');
      alert = await store.update('h1', alert.version, { status: 'closed', reason: 'duplicate', tags_remove: ['a'] }, 'bob');
      await store.putAlerts([makeAlert('h1', { count: 9 })], 'scan', later(1));
      await store.update('h1', alert.version, { status: 'open' }, 'carol');
      const after = await store.history('h1');
      assert.deepEqual(after.slice(0, before.length), before);
      assert.ok(after.length > before.length);
      const entryIds = after.map((entry) => entry.id);
      assert.deepEqual(entryIds, [...entryIds].sort((x, y) => x - y), 'in the order written');
    },
  },
  {
    name: 'list: the default filter is open and acknowledged; every filter field narrows as documented',
    run: async (store) => {
      await seed(store);
      await store.update('a6', 1, { status: 'closed', reason: 'false_positive' }, 'alice');
      await store.update('a3', 1, { status: 'acknowledged', assignee: 'bob', tags_add: ['hunt'] }, 'alice');
      assert.deepEqual(sorted(await ids(store, {})), ['a1', 'a2', 'a3', 'a4', 'a5']);
      assert.deepEqual(await ids(store, { status: ['closed'] }), ['a6']);
      assert.deepEqual(sorted(await ids(store, { status: [] })), ['a1', 'a2', 'a3', 'a4', 'a5', 'a6'], 'an empty status list means every status');
      assert.deepEqual(sorted(await ids(store, { level: ['critical', 'low'] })), ['a2', 'a3']);
      assert.deepEqual(sorted(await ids(store, { rule: ['aws-ct-rule-one'], status: [] })), ['a1', 'a6'], 'rule by name');
      assert.deepEqual(await ids(store, { rule: ['rule-2'] }), ['a2'], 'rule by id');
      assert.deepEqual(sorted(await ids(store, { technique: ['T1098'] })), ['a1', 'a2'], 'a technique matches its sub-techniques');
      assert.deepEqual(await ids(store, { technique: ['T1098.001'] }), ['a1']);
      assert.deepEqual(sorted(await ids(store, { technique: ['t1087.004', 'T1098.001'] })), ['a1', 'a3']);
      assert.deepEqual(await ids(store, { tactic: ['privilege-escalation'] }), ['a2']);
      assert.deepEqual(await ids(store, { tactic: ['Discovery'] }), ['a3'], 'a tactic in any common form');
      assert.deepEqual(await ids(store, { source: ['vpcflow'] }), ['a4']);
      assert.deepEqual(await ids(store, { source: ['guardduty'] }), ['a5']);
      assert.deepEqual(await ids(store, { account: ['444455556666'] }), ['a3']);
      assert.deepEqual(await ids(store, { region: ['eu-west-1'] }), ['a3']);
      assert.deepEqual(await ids(store, { actor: 'arn:aws:iam::111122223333:user/bob' }), ['a2']);
      assert.deepEqual(await ids(store, { source_ip: '198.51.100.9' }), ['a3']);
      assert.deepEqual(await ids(store, { assignee: 'bob' }), ['a3']);
      assert.deepEqual(await ids(store, { tag: 'hunt' }), ['a3']);
      assert.deepEqual(sorted(await ids(store, { since: '2026-11-03T00:00:00Z' })), ['a3', 'a4', 'a5']);
      assert.deepEqual(sorted(await ids(store, { until: '2026-11-02T00:00:00.000Z' })), ['a1', 'a2'], 'until is inclusive; an alert without a time is outside any range');
      assert.deepEqual(await ids(store, { since: '2026-11-02', until: '2026-11-02T12:00:00Z' }), ['a2']);
      assert.deepEqual(sorted(await ids(store, { level: ['high'], source: ['cloudtrail'], account: ['111122223333'] })), ['a1']);
    },
  },
  {
    name: 'list: free text searches rule name and title, actor, source IP, account and event ids; % and _ are literal',
    run: async (store) => {
      await seed(store);
      assert.deepEqual(await ids(store, { q: 'another user' }), ['a2'], 'title, case-insensitive');
      assert.deepEqual(await ids(store, { q: 'RULE-TWO' }), ['a2'], 'name');
      assert.deepEqual(await ids(store, { q: 'user/bob' }), ['a2'], 'actor');
      assert.deepEqual(await ids(store, { q: '198.51.100' }), ['a3'], 'source IP');
      assert.deepEqual(await ids(store, { q: '4444555' }), ['a3'], 'account');
      assert.deepEqual(await ids(store, { q: 'flow.log.gz#17' }), ['a4'], 'event id');
      assert.deepEqual(await ids(store, { q: '100%' }), ['a3'], '% is a character');
      assert.deepEqual(await ids(store, { q: 'rule_' }), ['a3'], '_ is a character');
      assert.deepEqual(await ids(store, { q: '%' }), ['a3']);
      assert.deepEqual(await ids(store, { q: "'; DROP TABLE alerts; --" }), []);
      assert.equal((await store.list({ filter: { status: [] } })).total, 6, 'nothing was dropped');
    },
  },
  {
    name: 'list: every sort, both ways, ties broken by id',
    run: async (store) => {
      await seed(store);
      await store.putAlerts([makeAlert('a2', { time: '2026-11-02T00:00:00.000Z', rule: { id: 'rule-2', name: 'aws-ct-rule-two', title: 'Access key for another user', level: 'critical' }, attack: { techniques: ['T1098'], tactics: ['persistence', 'privilege-escalation'] }, actor: 'arn:aws:iam::111122223333:user/bob' })], 'scan', later(30));
      const all = { status: [] as never[] };
      assert.deepEqual(await ids(store, all), ['a5', 'a4', 'a3', 'a2', 'a1', 'a6'], 'default -time: newest first, no time last');
      assert.deepEqual(await ids(store, all, 'time'), ['a6', 'a1', 'a2', 'a3', 'a4', 'a5']);
      assert.deepEqual(await ids(store, all, '-level'), ['a2', 'a1', 'a5', 'a4', 'a3', 'a6']);
      assert.deepEqual(await ids(store, all, 'level'), ['a6', 'a3', 'a4', 'a5', 'a1', 'a2']);
      assert.deepEqual((await ids(store, all, '-last_seen'))[0], 'a2');
      assert.deepEqual((await ids(store, all, 'last_seen')).slice(0, 5), ['a1', 'a3', 'a4', 'a5', 'a6']);
      assert.deepEqual((await ids(store, all, '-hits'))[0], 'a2');
      assert.deepEqual(await ids(store, all, 'hits'), ['a1', 'a3', 'a4', 'a5', 'a6', 'a2']);
    },
  },
  {
    name: 'list: keyset pages cover every alert once, stay stable while alerts are inserted, and end with a null cursor',
    run: async (store) => {
      const alerts = Array.from({ length: 23 }, (_, i) => makeAlert(`p${String(i).padStart(2, '0')}`, { time: `2026-11-05T10:${String(i % 7).padStart(2, '0')}:00.000Z` }));
      await store.putAlerts(alerts, 'scan', T0);
      for (const sort of ['-time', 'time', 'level', '-hits', 'last_seen'] as const) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        for (;;) {
          const page = await store.list({ filter: { rule: ['aws-ct-rule-one'] }, sort, limit: 5, ...(cursor === undefined ? {} : { cursor }) });
          assert.equal(page.total, sort === '-time' && pages < 2 ? 23 : 27, 'the total counts every page');
          pages += 1;
          seen.push(...page.alerts.map((alert) => alert.id));
          if (pages === 2 && sort === '-time') {
            // Newer alerts arriving while paging sort before the cursor: the next pages are unchanged.
            await store.putAlerts([0, 1, 2, 3].map((i) => makeAlert(`late${i}`, { time: '2026-11-06T00:00:00.000Z' })), 'watch', later(1));
          }
          if (page.next_cursor === null) break;
          cursor = page.next_cursor;
          assert.match(cursor, /^[A-Za-z0-9_-]+$/, 'an opaque base64url cursor');
        }
        const expected = sort === '-time' ? 23 : 27;
        assert.equal(seen.length, expected, `${sort}: every alert once`);
        assert.equal(new Set(seen).size, expected, `${sort}: no alert twice`);
      }
    },
  },
  {
    name: 'list: counts by status ignore the status filter, counts by level ignore the level filter',
    run: async (store) => {
      await seed(store);
      await store.update('a1', 1, { status: 'closed', reason: 'true_positive' }, 'alice');
      await store.update('a2', 1, { status: 'acknowledged' }, 'alice');
      const page = await store.list({ filter: { level: ['high', 'critical'] } });
      assert.equal(page.total, 1);
      assert.deepEqual(page.counts.status, { open: 0, acknowledged: 1, closed: 1 });
      assert.deepEqual(page.counts.level, { informational: 1, low: 1, medium: 2, high: 0, critical: 1 });
      const all = await store.list({ filter: { status: [] } });
      assert.equal(all.total, 6);
      assert.deepEqual(all.counts.status, { open: 4, acknowledged: 1, closed: 1 });
      assert.deepEqual(all.counts.level, { informational: 1, low: 1, medium: 2, high: 1, critical: 1 });
    },
  },
  {
    name: 'list: invalid filters, sorts, limits and cursors are 400',
    run: async (store) => {
      await seed(store);
      const bad: unknown[] = [
        { filter: { level: ['severe'] } },
        { filter: { status: ['resolved'] } },
        { filter: { source: ['cloudwatch'] } },
        { filter: { technique: ['persistence'] } },
        { filter: { since: 'yesterday-ish' } },
        { filter: {}, sort: 'name' },
        { filter: {}, limit: 0 },
        { filter: {}, limit: 501 },
        { filter: {}, cursor: 'not a cursor!' },
        { filter: {}, cursor: Buffer.from('{"s":"time","v":"x","i":"a"}').toString('base64url') },
      ];
      for (const request of bad) await rejects(store.list(request as never), 'TH_STORE_INVALID', 400);
      const first = await store.list({ filter: { status: [] }, limit: 2, sort: 'hits' });
      await rejects(store.list({ filter: {}, limit: 2, sort: '-time', cursor: first.next_cursor as string }), 'TH_STORE_INVALID', 400);
    },
  },
  {
    name: 'bulk by ids: the preview counts what would change; each alert changed gets its own history; no-ops are skipped',
    run: async (store) => {
      await seed(store);
      await store.update('a3', 1, { status: 'closed', reason: 'false_positive' }, 'alice');
      const target = { ids: ['a1', 'a2', 'a3', 'missing'] };
      const change = { status: 'closed', reason: 'false_positive', note: 'bulk' } as const;
      assert.equal(await store.bulkPreview(target, change), 2);
      assert.deepEqual(await store.bulkUpdate(target, change, 'erin'), { changed: 2 });
      for (const id of ['a1', 'a2']) {
        const alert = await must(store, id);
        assert.equal(alert.status, 'closed');
        assert.equal(alert.reason, 'false_positive');
        assert.equal(alert.version, 2);
        assert.deepEqual(alert.notes.map((note) => note.text), ['bulk']);
        assert.deepEqual((await store.history(id)).slice(1).map(({ action, actor }) => [action, actor]), [['status', 'erin'], ['reason', 'erin'], ['note_added', 'erin']]);
      }
      assert.equal((await must(store, 'a3')).version, 2, 'an alert already so is left alone');
      assert.equal(await store.bulkPreview(target, { status: 'closed', reason: 'false_positive' }), 0);
      assert.equal(await store.bulkPreview({ ids: ['a1', 'a4'] }, { status: 'acknowledged' }), 1, 'a closed alert cannot be acknowledged: skipped');
      await rejects(store.bulkUpdate(target, { status: 'closed' }, 'erin'), 'TH_STORE_INVALID', 400);
      await rejects(store.bulkPreview(target, { status: 'closed' }), 'TH_STORE_INVALID', 400);
      await rejects(store.bulkUpdate(target, { notes_remove: [1] }, 'erin'), 'TH_STORE_INVALID', 400);
    },
  },
  {
    name: 'bulk by filter: changes what the filter matches, and nothing else',
    run: async (store) => {
      await seed(store);
      const filter: AlertFilter = { rule: ['aws-ct-rule-one'] };
      assert.equal(await store.bulkPreview({ filter }, { status: 'acknowledged', tags_add: ['triage-1'] }), 2);
      assert.deepEqual(await store.bulkUpdate({ filter }, { status: 'acknowledged', tags_add: ['triage-1'] }, 'frank'), { changed: 2 });
      assert.deepEqual(sorted(await ids(store, { status: ['acknowledged'] })), ['a1', 'a6']);
      assert.deepEqual(sorted(await ids(store, { tag: 'triage-1' })), ['a1', 'a6']);
      assert.deepEqual(await store.bulkUpdate({ filter: { status: ['acknowledged'] } }, { status: 'closed', reason: 'benign_positive' }, 'frank'), { changed: 2 });
      assert.deepEqual(sorted(await ids(store, {})), ['a2', 'a3', 'a4', 'a5']);
      assert.deepEqual(await store.bulkUpdate({ filter: { q: 'nothing matches this' } }, { status: 'closed', reason: 'other' }, 'frank'), { changed: 0 });
    },
  },
  {
    name: 'suppressions: added with reason and expiry, listed, and their suppressed matches counted',
    run: async (store) => {
      const base = { id: 'sup-1', rule: 'aws-ct-rule-one', file: 'filters/sup-1.yml', created_at: T0.toISOString(), created_by: 'alice', reason: 'CI role', expires: '2027-01-01T00:00:00.000Z' };
      await store.addSuppression(base);
      await store.countSuppressed('sup-1', 3);
      await store.countSuppressed('sup-1', 2);
      await store.countSuppressed('not-a-suppression', 4);
      assert.deepEqual(await store.listSuppressions(), [{ ...base, suppressed: 5 }]);
      await rejects(store.addSuppression({ ...base, id: 'sup-2', reason: '' }), 'TH_STORE_INVALID', 400);
      await rejects(store.addSuppression({ ...base, id: 'sup-3', expires: 'never' }), 'TH_STORE_INVALID', 400);
      await rejects(store.addSuppression(base), 'TH_STORE_INVALID', 400);
      assert.equal((await store.listSuppressions()).length, 1);
    },
  },
  {
    name: 'ruleOutcomes: per rule, closed alerts and false positives among them',
    run: async (store) => {
      await seed(store);
      await store.update('a1', 1, { status: 'closed', reason: 'false_positive' }, 'alice');
      await store.update('a6', 1, { status: 'closed', reason: 'true_positive' }, 'alice');
      await store.update('a2', 1, { status: 'closed', reason: 'false_positive' }, 'alice');
      const outcomes = await store.ruleOutcomes();
      const byRule = new Map(outcomes.map((row) => [row.rule_id, row]));
      assert.deepEqual(byRule.get('rule-1'), { rule_id: 'rule-1', rule_name: 'aws-ct-rule-one', closed: 2, false_positive: 1 });
      assert.deepEqual(byRule.get('rule-2'), { rule_id: 'rule-2', rule_name: 'aws-ct-rule-two', closed: 1, false_positive: 1 });
      assert.equal(byRule.get('rule-3')?.closed, 0);
    },
  },
  {
    name: 'tokens: created once (th_ + 32 random bytes), verified, listed without secrets, revoked',
    run: async (store) => {
      const { token } = await store.createToken('ci', 'triager');
      assert.match(token, /^th_[A-Za-z0-9_-]{43}$/);
      const other = await store.createToken('admin-1', 'admin');
      assert.notEqual(other.token, token);
      assert.deepEqual(await store.verifyToken(token), { name: 'ci', role: 'triager' });
      assert.deepEqual(await store.verifyToken(other.token), { name: 'admin-1', role: 'admin' });
      assert.equal(await store.verifyToken(`${token}x`), undefined);
      assert.equal(await store.verifyToken(token.slice(0, -1)), undefined);
      assert.equal(await store.verifyToken(''), undefined);
      assert.equal(await store.verifyToken('Bearer whatever'), undefined);
      const list = await store.listTokens();
      assert.deepEqual(list.map((info) => [info.name, info.role]), [['admin-1', 'admin'], ['ci', 'triager']]);
      assert.ok(!JSON.stringify(list).includes(token.slice(3)), 'no secret in the list');
      assert.ok(list.find((info) => info.name === 'ci')?.last_used_at !== null, 'last use recorded');
      await rejects(store.createToken('ci', 'reader'), 'TH_STORE_INVALID', 400);
      await rejects(store.createToken('bad name', 'reader'), 'TH_STORE_INVALID', 400);
      await rejects(store.createToken('x', 'root' as never), 'TH_STORE_INVALID', 400);
      assert.equal(await store.revokeToken('ci'), true);
      assert.equal(await store.revokeToken('ci'), false);
      assert.equal(await store.verifyToken(token), undefined);
      assert.deepEqual(await store.verifyToken(other.token), { name: 'admin-1', role: 'admin' });
    },
  },
];

/** Registers every contract case as a test against the backend the factory opens. */
export function runAlertStoreContract(backend: string, factory: BackendFactory): void {
  for (const item of CONTRACT_CASES) {
    test(`${backend}: ${item.name}`, async () => {
      const { store, dispose } = await factory();
      try {
        await item.run(store);
      } finally {
        await store.close();
        await dispose?.();
      }
    });
  }
}
