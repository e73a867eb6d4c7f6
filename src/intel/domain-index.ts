/**
 * Domain -> indicator ids, with parent matching: a feed domain `evil.example` matches
 * `evil.example` and every name under it (`a.b.evil.example`), not `notevil.example`.
 * A lookup walks the queried name's suffixes at label boundaries: O(labels) map probes.
 */
import { normaliseDomain } from './domain.ts';

export class DomainIndex {
  private readonly map = new Map<string, number[]>();

  get size(): number {
    return this.map.size;
  }

  /** `domain` must be canonical (normaliseDomain). */
  add(domain: string, id: number): void {
    const list = this.map.get(domain);
    if (list) list.push(id);
    else this.map.set(domain, [id]);
  }

  /** Ids for the name and its parents, the exact name first, then parents nearest first. */
  lookup(name: string): number[] {
    let host = name.toLowerCase();
    if (host.endsWith('.')) host = host.slice(0, -1);
    if (/[^\x21-\x7e]/.test(host)) host = normaliseDomain(host) ?? host;
    const out: number[] = [];
    let from = 0;
    for (;;) {
      const list = this.map.get(from === 0 ? host : host.slice(from));
      if (list) out.push(...list);
      const dot = host.indexOf('.', from);
      if (dot < 0) break;
      from = dot + 1;
    }
    return out;
  }
}
