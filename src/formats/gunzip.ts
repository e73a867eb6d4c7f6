/**
 * Gzip decoded member by member, as `gzip -d` does, so that what a damaged or padded file
 * holds is never lost to the damage: Node's Gunzip reads the bytes after a member as the next
 * member and, when they are not one, fails the whole write in which they arrive, so a valid
 * member followed by a few bytes of garbage gives nothing at all. Here each member's header
 * (RFC 1952) is parsed by hand, its deflate data inflated raw (zlib reports exactly where the
 * deflate data ends), and its trailer checked (CRC-32 and length). What follows the last member
 * is read as it is: another member, zero padding (ignored, as gzip does), or trailing bytes
 * (reported with their offset; the members before them were read in full).
 *
 * Memory is bounded whatever the input: compressed bytes go to zlib FEED_BYTES at a time, so
 * at most FEED_BYTES times deflate's largest ratio (1032:1) of output is held between two
 * yields, and nothing else grows with the input (a header's name and comment are skipped, not
 * kept).
 */
import * as zlib from 'node:zlib';
import type { InflateRaw } from 'node:zlib';

/** Compressed bytes handed to zlib per call: bounds the output held per call (32 MiB at most). */
const FEED_BYTES = 32 * 1024;
/** zlib's output chunk. */
const OUT_CHUNK = 64 * 1024;
/** A header longer than this (name and comment are unbounded in RFC 1952) is taken for damage. */
const MAX_HEADER_BYTES = 1024 * 1024;

const FTEXT_FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;
const RESERVED_FLAGS = 0xe0;

/** Why a gzip stream did not end cleanly, and what had been read by then. */
export interface GzipFailure {
  /**
   * `trailing`: bytes after the last complete member that are not gzip; `truncated`: the bytes
   * end inside a member; `damaged`: a member's header or deflate data is invalid; `crc`: a
   * member decompressed but fails its CRC-32 or length check.
   */
  kind: 'trailing' | 'truncated' | 'damaged' | 'crc';
  reason: string;
  /** Members read in full and checked. */
  members: number;
  /** Decompressed bytes of those members. */
  membersOut: number;
  /** Decompressed bytes yielded in all (members read in full, and what the failing one gave). */
  out: number;
  /** Compressed offset where the failing member (or the trailing bytes) starts. */
  memberStart: number;
  /** Compressed bytes consumed when the failure was found (for `trailing`: where those bytes start). */
  consumed: number;
}

/** `1.5 GiB`, `256 MiB`, `12345 bytes`: a size for a message. */
export function formatBytes(bytes: number): string {
  const units: ReadonlyArray<[number, string]> = [[1024 ** 4, 'TiB'], [1024 ** 3, 'GiB'], [1024 ** 2, 'MiB'], [1024, 'KiB']];
  for (const [size, unit] of units) {
    if (bytes >= size) {
      const value = bytes / size;
      return `${Number.isInteger(value) ? value : value.toFixed(1)} ${unit}`;
    }
  }
  return `${bytes} bytes`;
}

let crcTable: Int32Array | undefined;

/** CRC-32 (the gzip polynomial) of data, continuing from `crc`: zlib's where Node has it (20.15+). */
const crc32: (data: Buffer, crc: number) => number =
  typeof zlib.crc32 === 'function'
    ? (data, crc) => zlib.crc32(data, crc)
    : (data, crc) => {
        if (crcTable === undefined) {
          crcTable = new Int32Array(256);
          for (let n = 0; n < 256; n++) {
            let c = n;
            for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
            crcTable[n] = c;
          }
        }
        let c = ~crc;
        for (let i = 0; i < data.length; i++) c = (crcTable[(c ^ (data[i] as number)) & 0xff] as number) ^ (c >>> 8);
        return ~c >>> 0;
      };

const FIXED = 0;
const XLEN = 1;
const EXTRA = 2;
const NAME = 3;
const COMMENT = 4;
const HCRC = 5;
const DONE = 6;

/** An RFC 1952 member header, parsed as its bytes arrive (in any number of pieces). */
class HeaderParser {
  /** Bytes of the header consumed so far. */
  bytes = 0;
  /** Set when the header is invalid; `notGzip` when its first two bytes are not the magic number. */
  error: string | undefined;
  notGzip = false;
  private readonly fixed = Buffer.alloc(10);
  private phase = FIXED;
  private flags = 0;
  /** Bytes still to skip in XLEN, EXTRA or HCRC. */
  private need = 0;
  private xlen = 0;

  get done(): boolean {
    return this.phase === DONE;
  }

  /** Consumes header bytes from the start of buf; returns how many it used. */
  feed(buf: Buffer): number {
    let i = 0;
    while (i < buf.length && this.phase !== DONE && this.error === undefined) {
      switch (this.phase) {
        case FIXED: {
          const n = Math.min(10 - this.bytes, buf.length - i);
          buf.copy(this.fixed, this.bytes, i, i + n);
          // The magic number is checked as soon as its bytes are there: trailing bytes are told apart at once.
          if ((this.bytes === 0 && buf[i] !== 0x1f) || (this.bytes <= 1 && this.bytes + n >= 2 && this.fixed[1] !== 0x8b)) {
            this.notGzip = true;
            this.error = 'not a gzip member';
            return i;
          }
          i += n;
          this.bytes += n;
          if (this.bytes < 10) break;
          if (this.fixed[2] !== 8) this.error = `unknown compression method ${this.fixed[2]}`;
          this.flags = this.fixed[3] as number;
          if ((this.flags & RESERVED_FLAGS) !== 0) this.error = 'reserved header flags set';
          this.next(XLEN);
          break;
        }
        case XLEN: {
          this.xlen |= (buf[i] as number) << (8 * (2 - this.need));
          i++;
          this.bytes++;
          if (--this.need === 0) {
            this.need = this.xlen;
            this.next(EXTRA);
          }
          break;
        }
        case EXTRA:
        case HCRC: {
          const n = Math.min(this.need, buf.length - i);
          i += n;
          this.bytes += n;
          this.need -= n;
          if (this.need === 0) this.next(this.phase + 1);
          break;
        }
        default: {
          // NAME, COMMENT: zero-terminated.
          const zero = buf.indexOf(0, i);
          const end = zero === -1 ? buf.length : zero + 1;
          this.bytes += end - i;
          i = end;
          if (zero !== -1) this.next(this.phase + 1);
          break;
        }
      }
      if (this.bytes > MAX_HEADER_BYTES) this.error = `header longer than ${formatBytes(MAX_HEADER_BYTES)}`;
    }
    return i;
  }

  /** Moves to `phase` or the first later phase the flags call for. */
  private next(phase: number): void {
    for (let p = phase; p <= DONE; p++) {
      if (p === XLEN && (this.flags & FEXTRA) === 0) continue;
      if (p === EXTRA && this.need === 0) continue;
      if (p === NAME && (this.flags & FNAME) === 0) continue;
      if (p === COMMENT && (this.flags & FCOMMENT) === 0) continue;
      if (p === HCRC && (this.flags & FTEXT_FHCRC) === 0) continue;
      this.phase = p;
      if (p === XLEN || p === HCRC) this.need = 2;
      return;
    }
  }
}

const HEADER = 0;
const BODY = 1;
const TRAILER = 2;
const BETWEEN = 3;
const PADDING = 4;

/** One raw inflate stream, fed a slice at a time; output is collected until taken. */
class Inflater {
  readonly out: Buffer[] = [];
  private readonly stream: InflateRaw;

  constructor() {
    this.stream = zlib.createInflateRaw({ chunkSize: OUT_CHUNK });
    this.stream.on('data', (chunk: Buffer) => this.out.push(chunk));
    // Errors are taken from the write in progress (feed); none may go unhandled.
    this.stream.on('error', () => {});
  }

  /**
   * Inflates a slice; resolves with the bytes zlib consumed (fewer than given: the deflate data
   * ended inside the slice; none: it ended before) or with zlib's error.
   */
  feed(slice: Buffer): Promise<{ used: number; error?: Error }> {
    const stream = this.stream;
    const before = stream.bytesWritten;
    return new Promise((resolve) => {
      let settled = false;
      const settle = (error: Error | null | undefined): void => {
        if (settled) return;
        settled = true;
        stream.off('error', settle);
        resolve(error ? { used: 0, error } : { used: stream.bytesWritten - before });
      };
      stream.once('error', settle);
      stream.write(slice, settle);
    });
  }

  close(): void {
    if (!this.stream.destroyed) this.stream.destroy();
  }
}

/**
 * The members of one gzip stream, decompressed in order. `decode` never throws on bad input:
 * it ends early and `failure` says why and what was read.
 */
export class GzipMembers {
  /** Complete, checked members. */
  members = 0;
  membersOut = 0;
  out = 0;
  /** Compressed bytes consumed. */
  consumed = 0;
  failure: GzipFailure | undefined;
  private memberStart = 0;
  private inflater: Inflater | undefined;

  private fail(kind: GzipFailure['kind'], reason: string, consumed = this.consumed): void {
    this.failure = { kind, reason, members: this.members, membersOut: this.membersOut, out: this.out, memberStart: this.memberStart, consumed };
  }

  async close(): Promise<void> {
    this.inflater?.close();
    this.inflater = undefined;
  }

  async *decode(source: AsyncIterable<Buffer>): AsyncGenerator<Buffer> {
    const it = source[Symbol.asyncIterator]();
    let pending: Buffer = Buffer.alloc(0);
    let sourceDone = false;
    // The next source chunk, asked for ahead while zlib works (overlapped reading).
    let ahead: Promise<IteratorResult<Buffer>> | undefined;
    let aheadReady: IteratorResult<Buffer> | undefined;
    const askAhead = (): void => {
      if (ahead !== undefined || sourceDone) return;
      const request = it.next();
      ahead = request;
      request.then((result) => {
        if (ahead === request) aheadReady = result;
      }, () => {});
    };
    const takeAhead = (result: IteratorResult<Buffer>): void => {
      ahead = undefined;
      aheadReady = undefined;
      if (result.done === true) sourceDone = true;
      else pending = result.value;
    };
    /** Makes `pending` non-empty; false once the source has ended. */
    const fill = async (): Promise<boolean> => {
      while (pending.length === 0) {
        if (sourceDone) return false;
        takeAhead(await (ahead ?? it.next()));
      }
      return true;
    };
    let state = HEADER;
    let header = new HeaderParser();
    const trailer = Buffer.alloc(8);
    let trailerBytes = 0;
    let crc = 0;
    let memberOut = 0;
    // The slice zlib is inflating, while the output of the one before is yielded.
    let inflating: { slice: Buffer; result: Promise<{ used: number; error?: Error }> } | undefined;
    const inflate = (inflater: Inflater): void => {
      const slice = pending.length > FEED_BYTES ? pending.subarray(0, FEED_BYTES) : pending;
      pending = pending.subarray(slice.length);
      inflating = { slice, result: inflater.feed(slice) };
      if (pending.length === 0) askAhead();
    };
    try {
      for (;;) {
        if (state === BODY) {
          const inflater = this.inflater as Inflater;
          if (inflating === undefined) {
            if (!(await fill())) break;
            inflate(inflater);
          }
          const { slice, result } = inflating as NonNullable<typeof inflating>;
          inflating = undefined;
          const { used, error } = await result;
          const chunks = inflater.out.splice(0);
          if (error === undefined) {
            this.consumed += used;
            if (used < slice.length) {
              // The deflate data ended inside this slice (or at the end of the one before).
              const rest = slice.subarray(used);
              pending = pending.length === 0 ? rest : Buffer.concat([rest, pending]);
              inflater.close();
              this.inflater = undefined;
              state = TRAILER;
              trailerBytes = 0;
            } else {
              // Overlap: zlib inflates the next slice while these chunks are decoded.
              if (pending.length === 0 && aheadReady !== undefined) takeAhead(aheadReady);
              if (pending.length > 0) inflate(inflater);
            }
          }
          for (const chunk of chunks) {
            crc = crc32(chunk, crc);
            memberOut += chunk.length;
            this.out += chunk.length;
            yield chunk;
          }
          if (error !== undefined) {
            this.fail('damaged', error.message);
            return;
          }
          continue;
        }
        if (!(await fill())) break;
        if (state === BETWEEN) {
          if (pending[0] === 0x00) {
            state = PADDING;
          } else {
            state = HEADER;
            header = new HeaderParser();
            this.memberStart = this.consumed;
          }
          continue;
        }
        if (state === PADDING) {
          // Zero bytes after the last member (tape or block padding): ignored, as gzip does.
          let i = 0;
          while (i < pending.length && pending[i] === 0) i++;
          this.consumed += i;
          if (i < pending.length) {
            this.memberStart = this.consumed;
            this.fail('trailing', 'not gzip');
            return;
          }
          pending = pending.subarray(i);
          continue;
        }
        if (state === HEADER) {
          const used = header.feed(pending);
          this.consumed += used;
          pending = pending.subarray(used);
          if (header.error !== undefined) {
            if (header.notGzip && this.members > 0) this.fail('trailing', 'not gzip', this.memberStart);
            else this.fail('damaged', `invalid gzip header: ${header.error}`);
            return;
          }
          if (header.done) {
            state = BODY;
            crc = 0;
            memberOut = 0;
            this.inflater = new Inflater();
          }
          continue;
        }
        // TRAILER: CRC-32 and length (mod 2^32) of the member's data.
        const n = Math.min(8 - trailerBytes, pending.length);
        pending.copy(trailer, trailerBytes, 0, n);
        trailerBytes += n;
        this.consumed += n;
        pending = pending.subarray(n);
        if (trailerBytes < 8) continue;
        const expectedCrc = trailer.readUInt32LE(0);
        const expectedSize = trailer.readUInt32LE(4);
        if (expectedCrc !== crc >>> 0 || expectedSize !== memberOut % 2 ** 32) {
          this.fail('crc', expectedCrc !== crc >>> 0 ? 'CRC-32 mismatch' : 'length mismatch');
          return;
        }
        this.members++;
        this.membersOut = this.out;
        this.memberStart = this.consumed;
        state = BETWEEN;
      }
      // The bytes ended: cleanly between members (or in padding), else inside one.
      if (state === HEADER && header.bytes > 0) this.fail('truncated', 'unexpected end of file in a header');
      else if (state === BODY || state === TRAILER) this.fail('truncated', 'unexpected end of file');
    } finally {
      await this.close();
      // Never wait here for a chunk asked for ahead: a live source (stdin) may not send one.
      // The source is closed once that read settles (the caller destroys the stream).
      if (ahead === undefined) await it.return?.(undefined);
      else void ahead.then(() => it.return?.(undefined), () => undefined);
    }
  }
}
