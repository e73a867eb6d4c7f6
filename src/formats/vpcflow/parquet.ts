/**
 * VPC Flow Logs delivered to S3 as Apache Parquet. Column names use underscores
 * (`account_id`, `log_status`, `pkt_srcaddr`); records use the AWS hyphenated names, the same
 * record shape as the text decoder: integers as numbers (INT_64 bigints converted), strings
 * as strings, null and `-` values left out. Read one row group at a time with hyparquet.
 */
import { located } from '../../core/errors.ts';
import { parquetMetadata, parquetReadObjects, type FileMetaData } from 'hyparquet';
import { compressors } from 'hyparquet-compressors';
import type { Envelope, LogRecord } from '../../core/envelope.ts';
import type { DecodeOptions } from '../types.ts';
import { FLOW_INTEGER_FIELDS, flowFieldFromParquetColumn } from './fields.ts';

const DEFAULT_BATCH_SIZE = 1024;

import { isParquet } from '../parquet-magic.ts';

export { isParquet };

function toArrayBuffer(bytes: Buffer | ArrayBuffer): ArrayBuffer {
  if (bytes instanceof ArrayBuffer) return bytes;
  const out = new ArrayBuffer(bytes.byteLength);
  new Uint8Array(out).set(bytes);
  return out;
}

/** A Parquet cell as a record value; undefined leaves the field out. */
function cellValue(field: string, value: unknown): { ok: true; value: unknown } | { ok: false } {
  if (value === null || value === undefined || value === '-') return { ok: true, value: undefined };
  if (typeof value === 'bigint') return { ok: true, value: Number(value) };
  if (FLOW_INTEGER_FIELDS.has(field)) {
    if (typeof value === 'number' && Number.isInteger(value)) return { ok: true, value };
    if (typeof value === 'string' && /^\d{1,20}$/.test(value)) return { ok: true, value: Number(value) };
    return { ok: false };
  }
  return { ok: true, value };
}

/**
 * Decodes a whole Parquet flow log object. Errors (not Parquet, damaged file) are reported
 * through options.onError with the uri as location; a cell that should be an integer and is
 * not is reported as `uri#row` and its row skipped.
 */
export async function* decodeFlowParquet(
  bytes: Buffer | ArrayBuffer,
  uri: string,
  options: DecodeOptions,
): AsyncIterable<Envelope[]> {
  const stats = options.stats;
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  const file = toArrayBuffer(bytes);
  let metadata: FileMetaData;
  try {
    if (!isParquet(new Uint8Array(file, 0, Math.min(4, file.byteLength)))) throw new Error('no PAR1 magic number');
    metadata = parquetMetadata(file);
  } catch (err) {
    stats.errors++;
    options.onError(located('TH_INPUT_READ', `not a readable Parquet file: ${(err as Error).message}`, uri));
    return;
  }
  let rowStart = 0;
  let index = 0;
  for (const group of metadata.row_groups) {
    const rowEnd = rowStart + Number(group.num_rows);
    let rows: Record<string, unknown>[];
    try {
      rows = await parquetReadObjects({ file, metadata, rowStart, rowEnd, compressors });
    } catch (err) {
      stats.errors++;
      options.onError(located('TH_INPUT_READ', `damaged Parquet row group (rows ${rowStart} to ${rowEnd - 1}): ${(err as Error).message}`, uri));
      rowStart = rowEnd;
      continue;
    }
    let batch: Envelope[] = [];
    rows: for (let i = 0; i < rows.length; i++) {
      const row = rows[i] as Record<string, unknown>;
      const record: LogRecord = {};
      for (const column of Object.keys(row)) {
        const field = flowFieldFromParquetColumn(column);
        const cell = cellValue(field, row[column]);
        if (!cell.ok) {
          stats.errors++;
          options.onError(located('TH_INPUT_RECORD', `column ${column} is not an integer: ${JSON.stringify(String(row[column])).slice(0, 60)}`, `${uri}#${rowStart + i}`));
          continue rows;
        }
        if (cell.value !== undefined) record[field] = cell.value;
      }
      const start = record.start;
      batch.push({
        source: 'vpcflow',
        time: typeof start === 'number' ? start * 1000 : NaN,
        record,
        origin: { uri, index: index++ },
      });
      stats.records++;
      if (batch.length === batchSize) {
        yield batch;
        batch = [];
      }
    }
    if (batch.length > 0) yield batch;
    rowStart = rowEnd;
  }
}
