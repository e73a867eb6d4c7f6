/**
 * A unit whose whole content is base64 text of gzip: what you get saving a CloudWatch Logs
 * subscription's `event.awslogs.data` (or a Firehose record's `data`) to a file. Sniffed from
 * its first bytes, `H4sI` (the base64 of gzip's magic number and deflate method), never from
 * its name. It is read whole (at most MAX_BASE64_UNIT_BYTES of text), decoded strictly (line
 * breaks and spaces allowed, as `base64` wraps its output; several padded blobs back to back
 * are several gzip members), and the gzip bytes are then decoded as the unit itself, with the
 * unit's decompressed-size limit (index.ts): only once, so base64 inside it is content.
 */
import { located, type LocatedError } from '../../core/errors.ts';
import { isGzip } from '../../core/bytes.ts';
import { formatBytes } from '../gunzip.ts';
import { decodeBase64 } from './base64.ts';

/** Base64 text held whole at most (48 MiB of gzip): far more than a Lambda event carries (6 MB). */
export const MAX_BASE64_UNIT_BYTES = 64 * 1024 * 1024;

/** True for a first line that starts as the base64 of gzip does. */
export function isBase64Gzip(firstLine: string): boolean {
  return firstLine.startsWith('H4sI');
}

/**
 * The gzip bytes of a base64 unit: `head` (read so far) then the rest. A located error when it
 * is larger than MAX_BASE64_UNIT_BYTES or not strict base64 of gzip.
 */
export async function readBase64Unit(uri: string, head: readonly Buffer[], rest: AsyncIterator<Buffer>): Promise<Buffer | LocatedError> {
  const parts = [...head];
  let size = parts.reduce((sum, chunk) => sum + chunk.length, 0);
  for (;;) {
    if (size > MAX_BASE64_UNIT_BYTES) {
      return located('TH_INPUT_LIMIT', `the input starts as base64 text of gzip (a saved CloudWatch Logs payload) but is larger than ${formatBytes(MAX_BASE64_UNIT_BYTES)}, ` +
          'the most such a file is read whole: not read. Decode it first (base64 -d) and scan the gzip file.', uri);
    }
    const next = await rest.next();
    if (next.done === true) break;
    parts.push(next.value);
    size += next.value.length;
  }
  const decoded = decodeBase64(Buffer.concat(parts, size).toString('latin1'), true);
  if (!Buffer.isBuffer(decoded)) {
    return located('TH_INPUT_FORMAT', `the input starts as base64 text of gzip (a saved CloudWatch Logs payload) but is not base64 (${decoded.error}): not read`, uri);
  }
  if (!isGzip(decoded)) return located('TH_INPUT_FORMAT', 'the input starts as base64 text of gzip but does not decode to gzip: not read', uri);
  return decoded;
}
