/**
 * VPC Flow Logs (and Transit Gateway Flow Logs) as text, the way AWS writes them to S3
 * (after the dispatcher's gunzip) or exports them from CloudWatch Logs.
 *
 * - A header line names the fields, in any order: it is used for the lines that follow.
 * - Lines before any header use `options.flowFormat` (the AWS format string,
 *   `${version} ${vpc-id} ...`) when given, else the default version-2 field order.
 * - Record: AWS field names as keys (`srcaddr`, `dstport`, `log-status`, ...), integer
 *   fields as numbers, other fields as strings; a `-` value leaves the field out (absent,
 *   which Sigma `null` matches). NODATA and SKIPDATA records are decoded like the others.
 * - Envelope time: `start` (epoch seconds) * 1000, NaN when absent.
 * - A malformed line is reported as `uri:line` (TH_INPUT_RECORD) and skipped.
 *
 * Parquet delivery is decoded by decodeFlowParquet (vpcflow-parquet.ts); the byte-level
 * fast path without records is scanFlowLines (vpcflow-scan.ts), or options.flowTap here.
 */
import { located } from '../../core/errors.ts';
import type { Envelope } from '../../core/envelope.ts';
import type { DecodeOptions, TextFormat } from '../types.ts';
import { DEFAULT_FLOW_HEADER, isFlowHeaderTokens, parseFlowFormat, type FlowHeader } from './fields.ts';
import { FlowLineScanner, type FlowLineView } from './line-scan.ts';

export { scanFlowLines, FlowLineScanner, type FlowLineView, type FlowScanOptions, type FlowScanStats } from './line-scan.ts';
export { parseFlowFormat, allVpcFieldsFormat, TGW_DEFAULT_FORMAT, DEFAULT_FLOW_HEADER, type FlowHeader } from './fields.ts';

const DEFAULT_BATCH_SIZE = 1024;

const V2_SHAPES: readonly RegExp[] = [
  /^2$/, // version
  /^(\d{12}|unknown|-)$/, // account-id
  /^(eni-[0-9a-z]+|-)$/, // interface-id
  /^([0-9.]+|[0-9a-fA-F:.]+|-)$/, // srcaddr
  /^([0-9.]+|[0-9a-fA-F:.]+|-)$/, // dstaddr
  /^(\d+|-)$/, // srcport
  /^(\d+|-)$/, // dstport
  /^(\d+|-)$/, // protocol
  /^(\d+|-)$/, // packets
  /^(\d+|-)$/, // bytes
  /^(\d+|-)$/, // start
  /^(\d+|-)$/, // end
  /^(ACCEPT|REJECT|-)$/, // action
  /^(OK|NODATA|SKIPDATA)$/, // log-status
];

const IP_OR_STATUS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-fA-F]*:[0-9a-fA-F:.]+|ACCEPT|REJECT|OK|NODATA|SKIPDATA|eni-[0-9a-z]+)$/;

/**
 * True for a flow log's first line: a header line (starts with `version`, or names both
 * `srcaddr` and `dstaddr`, every token a field name), a header-less default-format record
 * (14 fields of the version-2 shapes), or a header-less custom-format record (first field a
 * version 2 to 8, at least 5 fields, one of them an IP address, an action, a log status or
 * an interface id).
 */
export function sniffFlowLine(firstLine: string): boolean {
  const tokens = firstLine.trim().split(/[ \t]+/);
  if (tokens.length === 0 || tokens[0] === '') return false;
  if (tokens[0] === 'version' || (tokens.includes('srcaddr') && tokens.includes('dstaddr'))) {
    return isFlowHeaderTokens(tokens);
  }
  if (tokens.length === 14 && tokens.every((t, i) => V2_SHAPES[i]?.test(t) === true)) return true;
  if (!/^[2-8]$/.test(tokens[0] ?? '') || tokens.length < 5) return false;
  return tokens.every((t) => /^[\x21-\x7e]+$/.test(t)) && tokens.some((t) => IP_OR_STATUS.test(t));
}

function envelopeOf(view: FlowLineView, uri: string, index: number): Envelope {
  const record = view.record();
  const start = view.int(view.header.start);
  return {
    source: 'vpcflow',
    time: start === start ? start * 1000 : NaN,
    record,
    origin: { uri, index, line: view.line },
  };
}

function headerFromOptions(uri: string, options: DecodeOptions): FlowHeader {
  if (options.flowFormat === undefined) return DEFAULT_FLOW_HEADER;
  const parsed = parseFlowFormat(options.flowFormat);
  if (typeof parsed !== 'string') return parsed;
  options.stats.errors++;
  options.onError(located('TH_CONFIG', `invalid flow log format: ${parsed}; header-less lines of ${uri} are read with the default version 2 format`, '--flow-format'));
  return DEFAULT_FLOW_HEADER;
}

async function* decodeFlowText(bytes: AsyncIterable<Buffer>, uri: string, options: DecodeOptions): AsyncIterable<Envelope[]> {
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const stats = options.stats;
  const scanner = new FlowLineScanner({
    uri,
    header: headerFromOptions(uri, options),
    onError: (error) => {
      stats.errors++;
      options.onError(error);
    },
  });
  let batch: Envelope[] = [];
  const ready: Envelope[][] = [];
  let index = 0;
  const tap = options.flowTap;
  let sinceYield = 0;
  const visit =
    tap === undefined
      ? (view: FlowLineView): void => {
          batch.push(envelopeOf(view, uri, index++));
          stats.records++;
          if (batch.length === batchSize) {
            ready.push(batch);
            batch = [];
          }
        }
      : (view: FlowLineView): void => {
          tap.line(view, uri, index++);
          stats.records++;
          if (++sinceYield === batchSize) {
            sinceYield = 0;
            ready.push([]);
          }
        };
  for await (const chunk of bytes) {
    scanner.push(chunk, visit);
    while (ready.length > 0) yield ready.shift() as Envelope[];
  }
  scanner.end(visit);
  while (ready.length > 0) yield ready.shift() as Envelope[];
  if (batch.length > 0) yield batch;
}

/** VPC Flow Logs text: registered in the formats registry as a TextFormat. */
export const vpcFlowFormat: TextFormat = {
  source: 'vpcflow',
  sniff: sniffFlowLine,
  decode: decodeFlowText,
};
