/**
 * Address -> indicator ids for IPv4 and IPv6 addresses and CIDR blocks, in O(log n).
 *
 * CIDR blocks either nest or are disjoint, so the build sorts the ranges by (start, widest
 * first) and sweeps them with a stack into disjoint segments, each holding the ids of every
 * range that covers it, most specific first. A lookup is a binary search over segment starts.
 * IPv4 adds a one-bit-per-/24 filter (2 MiB) that rejects most misses without searching.
 * Many indicators for the same block are all kept (several feeds, several events).
 */
import { endianness } from 'node:os';

const EMPTY = new Uint32Array(0);

class U32List {
  data = new Uint32Array(1024);
  length = 0;

  push(v: number): void {
    if (this.length === this.data.length) {
      const next = new Uint32Array(this.data.length * 2);
      next.set(this.data);
      this.data = next;
    }
    this.data[this.length++] = v;
  }

  toArray(): Uint32Array {
    return this.data.slice(0, this.length);
  }
}

/** IPv4 ranges to ids. */
export class IPv4RangeIndex {
  private constructor(
    private readonly segStart: Uint32Array,
    private readonly segEnd: Uint32Array,
    private readonly segOffset: Uint32Array,
    private readonly ids: Uint32Array,
    private readonly filter: Uint32Array,
  ) {}

  /** Number of disjoint segments (diagnostics). */
  get segments(): number {
    return this.segStart.length;
  }

  /**
   * Builds from parallel arrays: range i is [start[i], start[i] + 2^(32 - prefix[i]) - 1] and
   * maps to ids[i]. `start` must already be the network address (host bits clear).
   */
  static build(start: Uint32Array, prefix: Uint8Array, ids: Uint32Array): IPv4RangeIndex {
    const n = start.length;
    const order = sortV4(start, prefix, n);
    const ends = new Float64Array(n);
    for (let k = 0; k < n; k++) ends[k] = start[k]! + 2 ** (32 - prefix[k]!) - 1;
    const segStart = new U32List();
    const segEnd = new U32List();
    const segOffset = new U32List();
    const pool = new U32List();
    // Open ranges, outermost first. Depth is at most 33 (one per prefix length) plus duplicates.
    let stack = new Uint32Array(64);
    let depth = 0;
    let cursor = 0;
    const emit = (from: number, to: number): void => {
      segStart.push(from);
      segEnd.push(to);
      segOffset.push(pool.length);
      for (let d = depth - 1; d >= 0; d--) pool.push(ids[stack[d]!]!);
    };
    for (let o = 0; o <= n; o++) {
      const k = o < n ? order[o]! : -1;
      const s = k >= 0 ? start[k]! : 2 ** 32;
      // Close the ranges that end before s, emitting the segment each leaves behind.
      while (depth > 0) {
        const end = ends[stack[depth - 1]!]!;
        if (end >= s) break;
        if (cursor <= end) {
          emit(cursor, end);
          cursor = end + 1;
        }
        depth--;
      }
      if (k < 0) break;
      if (depth > 0 && cursor < s) emit(cursor, s - 1);
      if (s > cursor) cursor = s;
      if (depth === stack.length) {
        const grown = new Uint32Array(stack.length * 2);
        grown.set(stack);
        stack = grown;
      }
      stack[depth++] = k;
    }
    segOffset.push(pool.length);

    const filter = new Uint32Array(1 << 19);
    const segStarts = segStart.toArray();
    const segEnds = segEnd.toArray();
    for (let i = 0; i < segStarts.length; i++) setBits(filter, segStarts[i]! >>> 8, segEnds[i]! >>> 8);
    return new IPv4RangeIndex(segStarts, segEnds, segOffset.toArray(), pool.toArray(), filter);
  }

  /** The segment holding `ip` (unsigned 32-bit), or -1. Allocates nothing. */
  find(ip: number): number {
    const p = ip >>> 8;
    if (((this.filter[p >>> 5]! >>> (p & 31)) & 1) === 0) return -1;
    const starts = this.segStart;
    let lo = 0;
    let hi = starts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid]! <= ip) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && ip <= this.segEnd[hi]! ? hi : -1;
  }

  /** Ids covering segment `seg`, most specific first (a view: do not modify). */
  idsAt(seg: number): Uint32Array {
    if (seg < 0) return EMPTY;
    return this.ids.subarray(this.segOffset[seg]!, this.segOffset[seg + 1]!);
  }

  lookup(ip: number): Uint32Array {
    return this.idsAt(this.find(ip));
  }
}

function setBits(bits: Uint32Array, from: number, to: number): void {
  for (let p = from; p <= to; ) {
    if ((p & 31) === 0 && p + 31 <= to) {
      bits[p >>> 5] = 0xffffffff;
      p += 32;
    } else {
      bits[p >>> 5]! |= 1 << (p & 31);
      p++;
    }
  }
}

/** Order of ranges by start ascending, widest (smallest prefix) first at equal starts. */
function sortV4(start: Uint32Array, prefix: Uint8Array, n: number): Uint32Array {
  if (n < 1 << 26 && endianness() === 'LE') {
    // 64-bit keys start:32 | prefix:6 | index:26, sorted natively as BigUint64.
    const words = new Uint32Array(n * 2);
    for (let i = 0; i < n; i++) {
      words[2 * i] = ((prefix[i]! << 26) | i) >>> 0;
      words[2 * i + 1] = start[i]!;
    }
    new BigUint64Array(words.buffer).sort();
    const order = new Uint32Array(n);
    for (let i = 0; i < n; i++) order[i] = words[2 * i]! & 0x3ffffff;
    return order;
  }
  const order = Uint32Array.from({ length: n }, (_, i) => i);
  return order.sort((a, b) => start[a]! - start[b]! || prefix[a]! - prefix[b]!);
}

/** IPv6 as 128-bit bigints for the build; segments stored as 4 words for allocation-free lookups. */
export class IPv6RangeIndex {
  private constructor(
    private readonly segStart: Uint32Array,
    private readonly segEnd: Uint32Array,
    private readonly segOffset: Uint32Array,
    private readonly ids: Uint32Array,
  ) {}

  get segments(): number {
    return this.segOffset.length - 1;
  }

  /** Builds from network addresses (4 words each, host bits clear), prefix lengths and ids. */
  static build(starts: readonly Uint32Array[], prefix: readonly number[], ids: readonly number[]): IPv6RangeIndex {
    const n = starts.length;
    const big = starts.map(toBig);
    const size = prefix.map((p) => (1n << BigInt(128 - p)) - 1n);
    const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => {
      const x = big[a]!;
      const y = big[b]!;
      return x < y ? -1 : x > y ? 1 : prefix[a]! - prefix[b]!;
    });
    const segStart: bigint[] = [];
    const segEnd: bigint[] = [];
    const segOffset: number[] = [];
    const pool: number[] = [];
    const stack: number[] = [];
    const emit = (from: bigint, to: bigint): void => {
      segStart.push(from);
      segEnd.push(to);
      segOffset.push(pool.length);
      for (let s = stack.length - 1; s >= 0; s--) pool.push(ids[stack[s]!]!);
    };
    let cursor = 0n;
    const closeUntil = (limit: bigint): void => {
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        const end = big[top]! + size[top]!;
        if (end >= limit) return;
        if (cursor <= end) emit(cursor, end);
        if (end + 1n > cursor) cursor = end + 1n;
        stack.pop();
      }
    };
    for (const k of order) {
      const s = big[k]!;
      closeUntil(s);
      if (stack.length > 0 && cursor < s) emit(cursor, s - 1n);
      if (s > cursor) cursor = s;
      stack.push(k);
    }
    closeUntil(1n << 128n);
    segOffset.push(pool.length);
    const words = (list: bigint[]): Uint32Array => {
      const out = new Uint32Array(list.length * 4);
      list.forEach((v, i) => {
        for (let w = 0; w < 4; w++) out[i * 4 + w] = Number((v >> BigInt(96 - 32 * w)) & 0xffffffffn);
      });
      return out;
    };
    return new IPv6RangeIndex(words(segStart), words(segEnd), Uint32Array.from(segOffset), Uint32Array.from(pool));
  }

  /** The segment holding the address (4 words), or -1. */
  find(ip: ArrayLike<number>): number {
    const starts = this.segStart;
    let lo = 0;
    let hi = this.segments - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (cmp(starts, mid * 4, ip) <= 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi >= 0 && cmp(this.segEnd, hi * 4, ip) >= 0 ? hi : -1;
  }

  idsAt(seg: number): Uint32Array {
    if (seg < 0) return EMPTY;
    return this.ids.subarray(this.segOffset[seg]!, this.segOffset[seg + 1]!);
  }

  lookup(ip: ArrayLike<number>): Uint32Array {
    return this.idsAt(this.find(ip));
  }
}

function toBig(words: Uint32Array): bigint {
  return (BigInt(words[0]!) << 96n) | (BigInt(words[1]!) << 64n) | (BigInt(words[2]!) << 32n) | BigInt(words[3]!);
}

/** Compares the 4 words at `a[off]` with `b`. */
function cmp(a: Uint32Array, off: number, b: ArrayLike<number>): number {
  for (let w = 0; w < 4; w++) {
    const x = a[off + w]!;
    const y = b[w]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}
