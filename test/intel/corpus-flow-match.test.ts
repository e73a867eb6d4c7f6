/**
 * Intel index x flow-log fast path over the shared corpus: the building blocks the
 * `--cti` scan will combine. Skipped when the corpus is absent.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Readable } from 'node:stream';
import { scanFlowLines, DEFAULT_FLOW_HEADER } from '../../src/formats/vpcflow/format.ts';
import { IntelIndex } from '../../src/intel/intel-index.ts';
import { parseListFeed } from '../../src/intel/feed-list.ts';
import { formatIPv4 } from '../../src/intel/ip-address.ts';

const CORPUS = fileURLToPath(new URL('../../../shared/corpus/vpcflow', import.meta.url));
const present = existsSync(CORPUS);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

test('corpus: IOC matches on both sides of every flow, by u32 and by text', { skip: !present && 'corpus absent' }, async () => {
  const now = Date.parse('2024-05-15T00:00:00Z');
  const feed = [
    '92.55.146.245 # attacker in the Panther compromised-root scenario',
    '203.0.113.0/24',
    '2001:db8:1234:a100::/64',
    '52.95.128.179',
  ].join('\n');
  const indicators = parseListFeed(feed, { feed: 'test-feed', file: 'test-feed.txt', invalid: assert.fail, unsupported: assert.fail, skip: () => {}, fail: assert.fail });
  const index = IntelIndex.of(indicators, { now });

  const hits: string[] = [];
  for (const path of files(CORPUS).filter((p) => p.endsWith('.log'))) {
    const name = path.split('/').pop() ?? '';
    await scanFlowLines(Readable.from([readFileSync(path)]), DEFAULT_FLOW_HEADER, (v) => {
      const h = v.header;
      for (const [field, col] of [['srcaddr', h.srcaddr], ['dstaddr', h.dstaddr], ['pkt-srcaddr', h.pktSrcaddr], ['pkt-dstaddr', h.pktDstaddr]] as const) {
        if (col < 0 || v.isAbsent(col)) continue;
        const u32 = v.ipv4(col);
        let matched: string[];
        if (u32 >= 0) {
          if (!index.mayMatchIPv4(u32)) continue;
          matched = index.lookupIPv4(u32).map((i) => i.value);
          // The u32 path and the text path agree.
          assert.deepEqual(index.lookupIp(formatIPv4(u32)).map((i) => i.value), matched);
        } else {
          matched = index.lookupIp(v.text(col) ?? '').map((i) => i.value);
        }
        for (const m of matched) hits.push(`${name}:${v.line} ${field} ${m}`);
      }
    }, { uri: path });
  }
  const attacker = hits.filter((h) => h.startsWith('panther-analysis.scenario.compromised-root-creds__attacker_vpc.log'));
  assert.deepEqual(attacker, [
    'panther-analysis.scenario.compromised-root-creds__attacker_vpc.log:1 srcaddr 92.55.146.245',
    'panther-analysis.scenario.compromised-root-creds__attacker_vpc.log:2 dstaddr 92.55.146.245',
    'panther-analysis.scenario.compromised-root-creds__attacker_vpc.log:5 dstaddr 92.55.146.245',
    'panther-analysis.scenario.compromised-root-creds__attacker_vpc.log:6 dstaddr 92.55.146.245',
  ]);
  assert.ok(hits.some((h) => /ipv6-traffic\.log:1 srcaddr 2001:db8:1234:a100::\/64/.test(h)), 'IPv6 CIDR');
  assert.ok(hits.some((h) => /nat-gateway\.log:\d+ pkt-dstaddr 203\.0\.113\.0\/24/.test(h)), 'pkt-dstaddr behind a NAT gateway');
  assert.ok(hits.some((h) => /service-name.*:2 srcaddr 52\.95\.128\.179/.test(h)), 'headered v5 file');
});
