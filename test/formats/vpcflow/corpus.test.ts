/**
 * The shared corpus of real flow log samples (AWS documentation, Elastic and Panther test
 * data). Skipped when the corpus is absent. Panther's JSON-lines wrappers are not a flow log
 * shape and are left out.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import type { LocatedError } from '../../../src/core/errors.ts';
import type { Envelope } from '../../../src/core/envelope.ts';
import type { DecodeStats } from '../../../src/formats/types.ts';
import { vpcFlowFormat } from '../../../src/formats/vpcflow/format.ts';
import { allVpcFieldsFormat, TGW_DEFAULT_FORMAT } from '../../../src/formats/vpcflow/fields.ts';

const CORPUS = fileURLToPath(new URL('../../../../shared/corpus/vpcflow', import.meta.url));
const present = existsSync(CORPUS);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

/** Header-less corpus files that are not in the default format: the format their producer used. */
const FLOW_FORMATS: Record<string, string> = {
  'test-tgw-samples.log': TGW_DEFAULT_FORMAT,
  'test-v5-all-fields.log': allVpcFieldsFormat(5),
  'test-v8-samples.log': allVpcFieldsFormat(8),
};

/** Lines of the AWS documentation examples that are annotations, not records. */
const EXPECTED_ERRORS: Record<string, number[]> = {
  'flow-logs-records-examples.traffic-through-a-nat-gateway.log': [6, 7], // trailing "#comment" prose
  'flow-logs-records-examples.traffic-through-a-transit-gateway.log': [3], // a literal "..."
};

async function decode(path: string, flowFormat?: string): Promise<{ envelopes: Envelope[]; errors: LocatedError[] }> {
  const errors: LocatedError[] = [];
  const stats: DecodeStats = { records: 0, skipped: 0, errors: 0 };
  const envelopes: Envelope[] = [];
  const bytes = readFileSync(path);
  const options = { onError: (e: LocatedError) => errors.push(e), stats, ...(flowFormat === undefined ? {} : { flowFormat }) };
  for await (const batch of vpcFlowFormat.decode(Readable.from([bytes]), path, options)) envelopes.push(...batch);
  assert.equal(stats.records, envelopes.length);
  assert.equal(stats.errors, errors.length);
  return { envelopes, errors };
}

test('corpus: every flow log sample decodes; sniff accepts each first line', { skip: !present && 'corpus absent' }, async () => {
  const logs = files(CORPUS).filter((p) => p.endsWith('.log'));
  assert.ok(logs.length >= 10, `expected the corpus flow logs, found ${logs.length}`);
  for (const path of logs) {
    const name = path.split('/').pop() ?? '';
    const text = readFileSync(path, 'utf8');
    assert.equal(vpcFlowFormat.sniff(text.split('\n')[0] ?? ''), true, `sniff ${name}`);
    const { envelopes, errors } = await decode(path, FLOW_FORMATS[name]);
    const expectedErrors = EXPECTED_ERRORS[name] ?? [];
    assert.deepEqual(errors.map((e) => e.location), expectedErrors.map((l) => `${path}:${l}`), `errors of ${name}`);
    assert.ok(errors.every((e) => e.code === 'TH_INPUT_RECORD'));
    const lines = text.split('\n').filter((l) => l.trim() !== '');
    const headers = lines.filter((l) => /^(version|instance-id) /.test(l)).length;
    assert.equal(envelopes.length, lines.length - headers - expectedErrors.length, `records of ${name}`);
    for (const e of envelopes) {
      assert.equal(e.source, 'vpcflow');
      for (const [k, v] of Object.entries(e.record)) {
        assert.notEqual(v, '-', `${name}: ${k} is "-"`);
        if (['srcport', 'dstport', 'packets', 'bytes', 'start', 'end', 'protocol', 'version'].includes(k)) assert.equal(typeof v, 'number', `${name}: ${k}`);
      }
      if (typeof e.record.start === 'number') assert.equal(e.time, e.record.start * 1000);
    }
  }
});

test('corpus: field values land where AWS documents them', { skip: !present && 'corpus absent' }, async () => {
  const at = (rel: string): string => join(CORPUS, rel);
  const v6 = await decode(at('awsdocs/flow-logs-records-examples.ipv6-traffic.log'));
  assert.equal(v6.envelopes[0]?.record.dstaddr, '2001:db8:1234:a102:3304:8879:34cf:4071');
  const nodata = await decode(at('awsdocs/flow-logs-records-examples.no-data-and-skipped-records.log'));
  assert.deepEqual(nodata.envelopes.map((e) => e.record['log-status']), ['NODATA', 'SKIPDATA']);
  const service = await decode(at('awsdocs/flow-logs-records-examples.service-name-traffic-path-and-flow-direction.log'));
  assert.equal(service.envelopes[0]?.record['pkt-src-aws-service'], 'S3');
  assert.equal(service.envelopes[1]?.record['traffic-path'], 8);
  assert.equal(service.envelopes[1]?.record['flow-direction'], 'egress');
  const nat = await decode(at('awsdocs/flow-logs-records-examples.traffic-through-a-nat-gateway.log'));
  assert.equal(nat.envelopes[0]?.record['pkt-dstaddr'], '203.0.113.5');
  assert.ok(Number.isNaN(nat.envelopes[0]?.time));
  const tgw = await decode(at('elastic-integrations/test-tgw-samples.log'), FLOW_FORMATS['test-tgw-samples.log']);
  assert.equal(tgw.envelopes[0]?.record['tgw-id'], 'tgw-0a12bc34de56f7890');
  assert.equal(tgw.envelopes[0]?.record.dstaddr, '2a02:cf40::');
  assert.equal(tgw.envelopes[0]?.record['flow-direction'], 'ingress');
  const v5 = await decode(at('elastic-integrations/test-v5-all-fields.log'), FLOW_FORMATS['test-v5-all-fields.log']);
  assert.equal(v5.envelopes[0]?.record['pkt-dst-aws-service'], 'CLOUDFRONT');
  assert.equal(v5.envelopes[0]?.record['traffic-path'], 1);
  const v8 = await decode(at('elastic-integrations/test-v8-samples.log'), FLOW_FORMATS['test-v8-samples.log']);
  assert.equal(v8.envelopes[0]?.record['reject-reason'], 'BPA');
  assert.equal(v8.envelopes[0]?.record['ecs-cluster-name'], 'backend-cluster');
  const tcp = await decode(at('elastic-integrations/test-tcp-flag-sequence.log'));
  assert.deepEqual(tcp.envelopes.map((e) => e.record['log-status']), ['OK', 'SKIPDATA', 'NODATA']);
});
