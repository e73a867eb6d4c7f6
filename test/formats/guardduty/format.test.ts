import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { LocatedError } from '../../../src/core/errors.ts';
import type { Envelope, Origin } from '../../../src/core/envelope.ts';
import type { UnwrapContext } from '../../../src/formats/types.ts';
import {
  compareFindingVersions,
  guardDutyFindingVersion,
  guardDutyFormat,
  isSampleFinding,
  type GuardDutyFindingVersion,
} from '../../../src/formats/guardduty/format.ts';

const FIXTURES = new URL('../../fixtures/guardduty/', import.meta.url);
const json = (name: string): unknown => JSON.parse(readFileSync(new URL(name, FIXTURES), 'utf8'));

interface Ctx extends UnwrapContext {
  errors: LocatedError[];
  skipped: number;
}

function context(uri: string, line?: number): Ctx {
  let index = 0;
  const ctx: Ctx = {
    uri,
    ...(line === undefined ? {} : { line }),
    errors: [],
    skipped: 0,
    nextOrigin(l?: number): Origin {
      return { uri, index: index++, ...(l === undefined ? {} : { line: l }) };
    },
    reportError(error) {
      ctx.errors.push(error);
    },
    countSkipped() {
      ctx.skipped++;
    },
  };
  return ctx;
}

function unwrap(value: unknown, uri = 'gd.json', line?: number): { envelopes: Envelope[]; ctx: Ctx } {
  const ctx = context(uri, line);
  assert.equal(guardDutyFormat.recognise(value), true, 'recognised');
  return { envelopes: guardDutyFormat.unwrap(value, ctx), ctx };
}

test('a raw finding is one envelope, time from updatedAt', () => {
  const finding = json('finding-raw.json') as Record<string, unknown>;
  const { envelopes, ctx } = unwrap(finding, 'gd.json', 1);
  assert.equal(envelopes.length, 1);
  const e = envelopes[0] as Envelope;
  assert.equal(e.source, 'guardduty');
  assert.equal(e.record, finding, 'the record is the finding itself, not a copy');
  assert.equal(e.time, Date.parse('2024-05-02T10:00:00.000Z'));
  assert.deepEqual(e.origin, { uri: 'gd.json', index: 0, line: 1 });
  assert.deepEqual(ctx.errors, []);
});

test('an EventBridge event: the record is `detail`; time falls back to the event time', () => {
  const event = json('finding-eventbridge.json') as Record<string, unknown>;
  const { envelopes } = unwrap(event);
  assert.equal(envelopes.length, 1);
  assert.equal(envelopes[0]?.record, event.detail);
  assert.equal(envelopes[0]?.record.type, 'Recon:EC2/PortProbeUnprotectedPort');
  assert.equal(envelopes[0]?.time, Date.parse('2024-05-02T10:05:00Z'));
});

test('time: updatedAt, else createdAt, else NaN', () => {
  const base = json('finding-raw.json') as Record<string, unknown>;
  const { updatedAt: _u, ...created } = base;
  assert.equal(unwrap(created).envelopes[0]?.time, Date.parse('2024-05-01T09:00:00.000Z'));
  const { createdAt: _c, ...none } = created;
  assert.ok(Number.isNaN(unwrap(none).envelopes[0]?.time));
});

test('GetFindings output: members unwrapped, samples dropped, bad members located', () => {
  const { envelopes, ctx } = unwrap(json('getfindings.json'), 'get.json', 1);
  assert.deepEqual(envelopes.map((e) => e.record.id), ['11111111111111111111111111111111', '33333333333333333333333333333333']);
  assert.equal(ctx.skipped, 1);
  assert.deepEqual(ctx.errors.map((e) => [e.code, e.location]), [['TH_INPUT_RECORD', 'get.json#0.Findings[2]']]);
  assert.deepEqual(envelopes.map((e) => e.origin.index), [0, 1]);
});

test('lowercase `findings` wrapper and a bare array of findings', () => {
  const raw = json('finding-raw.json');
  assert.equal(unwrap({ findings: [raw] }).envelopes.length, 1);
  assert.equal(unwrap({ findings: [] }).envelopes.length, 0);
  assert.equal(unwrap([raw, raw]).envelopes.length, 2);
});

test('JSON-lines export: one raw finding per line; all sample markers dropped', () => {
  const lines = readFileSync(new URL('export.jsonl', FIXTURES), 'utf8').trim().split('\n');
  const kept: Envelope[] = [];
  let skipped = 0;
  lines.forEach((line, i) => {
    const { envelopes, ctx } = unwrap(JSON.parse(line), 'export.jsonl', i + 1);
    kept.push(...envelopes);
    skipped += ctx.skipped;
  });
  assert.deepEqual(kept.map((e) => [e.record.type, e.origin.line]), [
    ['Impact:IAMUser/AnomalousBehavior', 1],
    ['Impact:IAMUser/AnomalousBehavior', 2],
  ]);
  assert.equal(skipped, 2, 'sample: "true" and the {"sample":true} value string');
});

test('sample detection', () => {
  const f = (info: unknown): Record<string, unknown> => ({ id: 'x', type: 't', service: { additionalInfo: info } });
  assert.equal(isSampleFinding(f({ sample: true })), true);
  assert.equal(isSampleFinding(f({ sample: 'true' })), true);
  assert.equal(isSampleFinding(f({ sample: 'TRUE' })), true);
  assert.equal(isSampleFinding(f({ value: '{"sample":true}', type: 'default' })), true);
  assert.equal(isSampleFinding(f({ sample: false })), false);
  assert.equal(isSampleFinding(f({ sample: 'false' })), false);
  assert.equal(isSampleFinding(f({})), false);
  assert.equal(isSampleFinding({ id: 'x', type: 't' }), false);
});

test('recognise: GuardDuty shapes only', () => {
  assert.equal(guardDutyFormat.recognise({ Records: [{ eventVersion: '1.08' }] }), false);
  assert.equal(guardDutyFormat.recognise({ findings: [{ rule: 'x' }] }), false);
  assert.equal(guardDutyFormat.recognise({ 'detail-type': 'AWS API Call via CloudTrail', source: 'aws.iam', detail: {} }), false);
  assert.equal(guardDutyFormat.recognise({ 'detail-type': 'GuardDuty Finding', source: 'aws.securityhub', detail: {} }), false);
  assert.equal(guardDutyFormat.recognise({ id: 'x', type: 'y' }), false);
  assert.equal(guardDutyFormat.recognise([]), false);
  assert.equal(guardDutyFormat.recognise('GuardDuty'), false);
  assert.equal(guardDutyFormat.recognise(null), false);
});

test('an EventBridge event whose detail is not a finding is a located error', () => {
  const { envelopes, ctx } = unwrap({ 'detail-type': 'GuardDuty Finding', source: 'aws.guardduty', detail: 'oops' }, 'eb.json', 3);
  assert.equal(envelopes.length, 0);
  assert.deepEqual(ctx.errors.map((e) => e.location), ['eb.json#0.detail']);
});

test('finding versions: id, service.count, updatedAt; newer = higher count, then later update', () => {
  const lines = readFileSync(new URL('export.jsonl', FIXTURES), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const first = guardDutyFindingVersion(lines[0] ?? {}) as GuardDutyFindingVersion;
  const second = guardDutyFindingVersion(lines[1] ?? {}) as GuardDutyFindingVersion;
  assert.deepEqual(first, { id: '44444444444444444444444444444444', count: 1, updatedAt: Date.parse('2024-05-02T10:00:00.000Z') });
  assert.deepEqual(second, { id: '44444444444444444444444444444444', count: 4, updatedAt: Date.parse('2024-05-03T10:00:00.000Z') });
  assert.ok(compareFindingVersions(second, first) > 0);
  assert.ok(compareFindingVersions(first, second) < 0);
  assert.equal(compareFindingVersions(first, first), 0);
  assert.ok(compareFindingVersions({ id: 'a', count: 2, updatedAt: 5 }, { id: 'a', count: 2, updatedAt: NaN }) > 0);
  assert.equal(guardDutyFindingVersion({ type: 'x' }), undefined);
  assert.deepEqual(guardDutyFindingVersion({ id: 'z' }), { id: 'z', count: 1, updatedAt: NaN });
});

test('dispatcher contract: ctx.locate names members; recovered holes are skipped silently', () => {
  assert.deepEqual(guardDutyFormat.recordArrays, ['Findings', 'findings']);
  const raw = json('finding-raw.json');
  const ctx = context('d.json', 7);
  const located: Ctx = { ...ctx, locate: (member: string) => `d.json#3${member}` };
  located.reportError = (e) => ctx.errors.push(e);
  located.countSkipped = () => ctx.skipped++;
  const value = { Findings: [undefined, raw, 42, undefined] };
  assert.equal(guardDutyFormat.recognise(value), true);
  const envelopes = guardDutyFormat.unwrap(value, located);
  assert.equal(envelopes.length, 1);
  assert.deepEqual(ctx.errors.map((e) => e.location), ['d.json#3.Findings[2]']);
  const bare = [undefined, raw];
  assert.equal(guardDutyFormat.recognise(bare), true);
  assert.equal(guardDutyFormat.unwrap(bare, context('b.json')).length, 1);
});
