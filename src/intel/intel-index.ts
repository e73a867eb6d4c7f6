/**
 * The loaded threat intelligence: every live indicator of every feed, looked up by IP
 * address (v4 or v6, exact or inside a CIDR block) or by domain (the name or a parent).
 * Lookups return all matching indicators, most specific first, filtered by validity at
 * `now` (default: the build time). loadFeeds() builds it; tests can build one directly.
 */
import type { Indicator } from './indicator.ts';
import { IPv4RangeIndex, IPv6RangeIndex } from './ip-index.ts';
import { DomainIndex } from './domain-index.ts';
import { parseIPv4 } from '../core/ipv4.ts';
import { isIPv4Mapped, parseIPv6, parseNetwork } from './ip-address.ts';
import { indicatorExpiry, type ExpiryPolicy } from './expiry.ts';

export class IntelIndexBuilder {
  private readonly indicators: Indicator[] = [];
  private readonly expires: number[] = [];
  private v4Start = new Uint32Array(1024);
  private v4Prefix = new Uint8Array(1024);
  private v4Ids = new Uint32Array(1024);
  private v4Count = 0;
  private readonly v6Start: Uint32Array[] = [];
  private readonly v6Prefix: number[] = [];
  private readonly v6Ids: number[] = [];
  private readonly domains = new DomainIndex();

  /**
   * Adds an indicator to be matched until `expiresAt` (epoch ms; see expiry.ts). Returns false
   * (and adds nothing) when its value is not canonical IP/CIDR/domain text.
   */
  add(indicator: Indicator, expiresAt: number): boolean {
    const id = this.indicators.length;
    if (indicator.kind === 'domain') {
      this.domains.add(indicator.value, id);
    } else {
      const plain = indicator.kind === 'ipv4' ? parseIPv4(indicator.value) : -1;
      const net = plain >= 0 ? { kind: 'ipv4' as const, start: plain, prefix: 32 } : parseNetwork(indicator.value);
      if (!net) return false;
      if (net.kind === 'ipv4') {
        if (this.v4Count === this.v4Start.length) this.growV4();
        this.v4Start[this.v4Count] = net.start;
        this.v4Prefix[this.v4Count] = net.prefix;
        this.v4Ids[this.v4Count] = id;
        this.v4Count++;
      } else {
        this.v6Start.push(net.start);
        this.v6Prefix.push(net.prefix);
        this.v6Ids.push(id);
      }
    }
    this.indicators.push(indicator);
    this.expires.push(expiresAt);
    return true;
  }

  private growV4(): void {
    const size = this.v4Start.length * 2;
    const s = new Uint32Array(size);
    s.set(this.v4Start);
    const p = new Uint8Array(size);
    p.set(this.v4Prefix);
    const i = new Uint32Array(size);
    i.set(this.v4Ids);
    this.v4Start = s;
    this.v4Prefix = p;
    this.v4Ids = i;
  }

  build(builtAt: number): IntelIndex {
    const n = this.v4Count;
    const v4 = IPv4RangeIndex.build(this.v4Start.subarray(0, n), this.v4Prefix.subarray(0, n), this.v4Ids.subarray(0, n));
    const v6 = IPv6RangeIndex.build(this.v6Start, this.v6Prefix, this.v6Ids);
    return new IntelIndex(this.indicators, Float64Array.from(this.expires), v4, v6, this.domains, builtAt, {
      ipv4: n,
      ipv6: this.v6Ids.length,
      domain: this.indicators.length - n - this.v6Ids.length,
    });
  }
}

export interface IntelIndexSize {
  ipv4: number;
  ipv6: number;
  domain: number;
}

export class IntelIndex {
  private readonly scratch6 = new Uint32Array(4);

  constructor(
    readonly indicators: readonly Indicator[],
    private readonly expires: Float64Array,
    private readonly v4: IPv4RangeIndex,
    private readonly v6: IPv6RangeIndex,
    private readonly domains: DomainIndex,
    /** Default `now` of lookups (epoch ms). */
    readonly builtAt: number,
    /** Indicators held, by kind. */
    readonly size: IntelIndexSize,
  ) {}

  /** Builds an index of the given indicators, revoked and expired ones (at policy.now) left out. */
  static of(indicators: readonly Indicator[], policy: ExpiryPolicy): IntelIndex {
    const builder = new IntelIndexBuilder();
    for (const indicator of indicators) {
      if (indicator.revoked) continue;
      const expiresAt = indicatorExpiry(indicator, policy);
      if (policy.now >= expiresAt) continue;
      builder.add(indicator, expiresAt);
    }
    return builder.build(policy.now);
  }

  private active(id: number, now: number): boolean {
    const indicator = this.indicators[id]!;
    if (indicator.revoked || now >= this.expires[id]!) return false;
    return indicator.validFrom === undefined || now >= indicator.validFrom;
  }

  private collect(ids: ArrayLike<number>, now: number): Indicator[] {
    const out: Indicator[] = [];
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i]!;
      if (this.active(id, now)) out.push(this.indicators[id]!);
    }
    return out;
  }

  /**
   * Fast path for the flow-log scanner: true when some IPv4 indicator (live or not) covers
   * the address. Allocation-free; confirm with lookupIPv4.
   */
  mayMatchIPv4(ip: number): boolean {
    return this.v4.find(ip) >= 0;
  }

  /** Indicators covering an IPv4 address given as an unsigned 32-bit integer. */
  lookupIPv4(ip: number, now: number = this.builtAt): Indicator[] {
    const seg = this.v4.find(ip);
    return seg < 0 ? [] : this.collect(this.v4.idsAt(seg), now);
  }

  /** Indicators covering an IPv6 address given as four big-endian 32-bit words. */
  lookupIPv6(words: ArrayLike<number>, now: number = this.builtAt): Indicator[] {
    const seg = this.v6.find(words);
    return seg < 0 ? [] : this.collect(this.v6.idsAt(seg), now);
  }

  /** Indicators covering an IP address in text form (v4, v6, IPv4-mapped v6); [] for non-IPs. */
  lookupIp(text: string, now: number = this.builtAt): Indicator[] {
    const v4 = parseIPv4(text);
    if (v4 >= 0) return this.lookupIPv4(v4, now);
    const words = parseIPv6(text, this.scratch6);
    if (!words) return [];
    if (isIPv4Mapped(words)) return this.lookupIPv4(words[3]!, now);
    return this.lookupIPv6(words, now);
  }

  /** Indicators for a domain name or any of its parent domains, the exact name first. */
  lookupDomain(name: string, now: number = this.builtAt): Indicator[] {
    return this.collect(this.domains.lookup(name), now);
  }
}
