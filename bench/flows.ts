/**
 * VPC Flow Logs as AWS delivers them to S3 (default format, header line, gzip), and an
 * indicator feed (one address per line) that a known number of flows hit.
 *
 * Background external addresses and indicators come from disjoint first octets, so the only
 * matches are the planted ones.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Account } from './records.ts';
import { HOUR } from './records.ts';
import type { Rng } from './rng.ts';
import { GzipFileWriter } from './gzip-files.ts';


export const FLOW_HEADER = 'version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status';
const BACKGROUND_OCTETS = [3, 13, 18, 34, 35, 44, 52, 54, 99, 104, 142, 151, 157, 162];
const INDICATOR_OCTETS = [45, 77, 91, 103, 176, 185, 193, 194, 195, 212];
const LINES_PER_FILE = 50_000;

export interface FlowManifest {
  files: number;
  lines: number;
  compressedBytes: number;
  uncompressedBytes: number;
  indicators: number;
  /** Flows whose srcaddr or dstaddr is an indicator. */
  hits: number;
  hitsBySide: { srcaddr: number; dstaddr: number };
  /** Distinct indicators hit. */
  indicatorsHit: number;
  /** Accepted SSH/RDP from the internet (the rest of that traffic is rejected). */
  remoteAdmin: number;
  /** Alerts per rule name the built-in pack and the feed must raise on the flows. */
  expected: Record<string, number>;
}

function ip(rng: Rng, octets: readonly number[]): string {
  return `${rng.pick(octets)}.${rng.int(256)}.${rng.int(256)}.${rng.between(1, 254)}`;
}

export async function generateFlows(rng: Rng, accounts: readonly Account[], dir: string, feedPath: string, totalLines: number, indicatorCount: number, t0: number): Promise<FlowManifest> {
  const indicators = new Set<string>();
  while (indicators.size < indicatorCount) indicators.add(ip(rng, INDICATOR_OCTETS));
  const list = [...indicators];
  const hitIndicators = list.slice(0, 25);
  writeFileSync(feedPath, `# synthetic indicator feed for the trailhound benchmark: ${list.length} addresses\n${list.join('\n')}\n`);

  const fileCount = Math.max(1, Math.ceil(totalLines / LINES_PER_FILE));
  const places = accounts.slice(0, 2).flatMap((account) => [['us-east-1', account], ['us-west-2', account]] as const);
  const hitAt = new Map<number, number>();
  for (let i = 0; i < 30; i++) hitAt.set(Math.floor(((i + 0.5) * totalLines) / 30), i);
  // Accepted SSH from the internet, planted between the indicator hits.
  const adminAt = new Set<number>();
  for (let i = 0; i < 12; i++) adminAt.add(Math.floor(((i + 0.25) * totalLines) / 12) + 1);
  const enis = Array.from({ length: 400 }, () => `eni-0${rng.hex(16)}`);
  const files = new GzipFileWriter();
  let line = 0;
  let src = 0;
  let dst = 0;
  let remoteAdmin = 0;
  for (let f = 0; f < fileCount; f++) {
    const [region, account] = places[f % places.length] as readonly [string, Account];
    const count = Math.min(LINES_PER_FILE, totalLines - line);
    const start = Math.floor((t0 + ((f + 1) * 24 * HOUR) / (fileCount + 1)) / 1000);
    const parts: string[] = [FLOW_HEADER];
    for (let i = 0; i < count; i++, line++) {
      const eni = rng.pick(enis);
      const t = start + rng.int(600);
      const hit = hitAt.get(line);
      const admin = hit === undefined && adminAt.has(line);
      if (hit === undefined && !admin && rng.chance(0.01)) {
        parts.push(`2 ${account.id} ${eni} - - - - - - - ${t} ${t + 60} - NODATA`);
        continue;
      }
      const inside = `10.${rng.int(32)}.${rng.int(256)}.${rng.between(1, 254)}`;
      let outside = ip(rng, BACKGROUND_OCTETS);
      let inbound = rng.chance(0.4);
      if (hit !== undefined) {
        outside = hitIndicators[hit % hitIndicators.length] as string;
        inbound = hit % 3 === 0;
        if (inbound) src++;
        else dst++;
      }
      let service = rng.pick([443, 443, 443, 80, 53, 22, 3306, 5432, 6379, 8080, 3389]);
      const ephemeral = rng.between(32768, 65535);
      const packets = rng.between(1, 400);
      const bytes = packets * rng.between(40, 1400);
      // Security groups drop SSH/RDP from the internet; the planted ones got through.
      let action = rng.chance(0.08) || (inbound && (service === 22 || service === 3389)) ? 'REJECT' : 'ACCEPT';
      if (admin) {
        inbound = true;
        service = 22;
        action = 'ACCEPT';
        remoteAdmin++;
      }
      const protocol = service === 53 ? 17 : 6;
      parts.push(
        inbound
          ? `2 ${account.id} ${eni} ${outside} ${inside} ${ephemeral} ${service} ${protocol} ${packets} ${bytes} ${t} ${t + 60} ${action} OK`
          : `2 ${account.id} ${eni} ${inside} ${outside} ${ephemeral} ${service} ${protocol} ${packets} ${bytes} ${t} ${t + 60} ${action} OK`,
      );
    }
    const d = new Date(start * 1000);
    const pad = (n: number): string => String(n).padStart(2, '0');
    const stamp = `${d.getUTCFullYear()}${pad(d.getUTCMonth() + 1)}${pad(d.getUTCDate())}T${pad(d.getUTCHours())}${pad(d.getUTCMinutes())}Z`;
    const path = join(dir, `AWSLogs/${account.id}/vpcflowlogs/${region}/${d.getUTCFullYear()}/${pad(d.getUTCMonth() + 1)}/${pad(d.getUTCDate())}/${account.id}_vpcflowlogs_${region}_fl-0${rng.hex(16)}_${stamp}_${rng.hex(8)}.log.gz`);
    await files.write(path, `${parts.join('\n')}\n`);
  }
  await files.close();
  return {
    files: fileCount,
    lines: totalLines,
    compressedBytes: files.compressedBytes,
    uncompressedBytes: files.uncompressedBytes,
    indicators: list.length,
    hits: src + dst,
    hitsBySide: { srcaddr: src, dstaddr: dst },
    indicatorsHit: new Set(Array.from(hitAt.values(), (i) => hitIndicators[i % hitIndicators.length])).size,
    remoteAdmin,
    expected: { 'aws-vpcflow-cti-ip-match': src + dst, 'aws-vpcflow-remote-admin-from-internet': remoteAdmin },
  };
}
