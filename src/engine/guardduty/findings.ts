/**
 * One alert per GuardDuty finding id, however many times GuardDuty publishes it
 * (docs/architecture.md, Semantics). GuardDuty re-publishes a finding each time it sees the activity again, with
 * a higher `service.count` and a later `updatedAt` (compareFindingVersions orders them).
 *
 * - A version no newer than one already seen is ignored, whatever the order of arrival.
 * - The alerts a version raises (the passthrough alert, Sigma rules over the finding, intel
 *   matches of its remote addresses) are held, keyed by finding id, and a newer version
 *   replaces them: a batch scan emits the newest version only, at the end of the input.
 * - Memory is bounded. At most `maxPending` findings are held: past that, the least recently
 *   updated one is emitted early. `maxPending: 0` emits every version as it comes (a
 *   long-running consumer). Either way, a version newer than one already emitted is emitted
 *   again, same alert ids, with `update: true`; and only `{id -> version}` is kept of emitted
 *   findings, for at most `maxKnown` ids (the oldest forgotten first).
 */
import type { Alert } from '../../core/alert.ts';
import type { Envelope } from '../../core/envelope.ts';
import { compareFindingVersions, guardDutyFindingVersion, type GuardDutyFindingVersion } from '../../formats/guardduty/format.ts';

export const DEFAULT_MAX_PENDING_FINDINGS = 10_000;
export const DEFAULT_MAX_KNOWN_FINDINGS = 200_000;

export interface GuardDutyFindingsOptions {
  maxPending?: number;
  maxKnown?: number;
}

export interface GuardDutyFindingsStats {
  /** Versions that raised alerts (first sight or newer). */
  admitted: number;
  /** Versions ignored: no newer than one already seen. */
  stale: number;
  /** Held versions replaced by a newer one before being emitted. */
  replaced: number;
  /** Alert groups emitted as updates of an earlier emission. */
  updates: number;
}

/** A held version of a finding and the alerts it raises, as JSON (DetectorPartial). */
export interface HeldFinding {
  version: GuardDutyFindingVersion;
  alerts: Alert[];
}

interface Held {
  version: GuardDutyFindingVersion;
  alerts: Alert[];
  /** An earlier version of the finding was already emitted. */
  update: boolean;
}

export class GuardDutyFindings {
  readonly stats: GuardDutyFindingsStats = { admitted: 0, stale: 0, replaced: 0, updates: 0 };
  private readonly maxPending: number;
  private readonly maxKnown: number;
  /** Held findings, least recently updated first (Map insertion order). */
  private readonly pending = new Map<string, Held>();
  /** The newest version emitted per finding id. */
  private readonly known = new Map<string, GuardDutyFindingVersion>();

  constructor(options: GuardDutyFindingsOptions = {}) {
    this.maxPending = Math.max(0, options.maxPending ?? DEFAULT_MAX_PENDING_FINDINGS);
    this.maxKnown = Math.max(1, options.maxKnown ?? DEFAULT_MAX_KNOWN_FINDINGS);
  }

  /**
   * Offers one version of a finding. When it is newer than any seen, `derive` appends the
   * alerts it raises to the array it is given, and they are held or emitted to `out`.
   */
  offer(envelope: Envelope, derive: (alerts: Alert[]) => void, out: Alert[]): void {
    const version = guardDutyFindingVersion(envelope.record);
    if (version === undefined) {
      // No id, nothing to deduplicate on (the decoder requires one; a hand-made envelope may not).
      derive(out);
      return;
    }
    const held = this.pending.get(version.id);
    const seen = held?.version ?? this.known.get(version.id);
    if (seen !== undefined && compareFindingVersions(version, seen) <= 0) {
      this.stats.stale++;
      return;
    }
    this.stats.admitted++;
    const alerts: Alert[] = [];
    derive(alerts);
    const update = held !== undefined ? held.update : seen !== undefined;
    if (held !== undefined) {
      this.stats.replaced++;
      this.pending.delete(version.id);
    }
    if (this.maxPending === 0) {
      this.emit(version, { version, alerts, update }, out);
      return;
    }
    this.pending.set(version.id, { version, alerts, update });
    if (this.pending.size > this.maxPending) {
      const [oldestId, oldest] = this.pending.entries().next().value as [string, Held];
      this.pending.delete(oldestId);
      this.emit(oldest.version, oldest, out);
    }
  }

  /** Emits every held finding (the end of the input), in the order they were last updated. */
  flush(out: Alert[]): void {
    for (const held of this.pending.values()) this.emit(held.version, held, out);
    this.pending.clear();
  }

  /**
   * Takes the held findings out without emitting them: a cluster node's unit hands over the
   * newest version of each finding it saw, with the alerts that version raises.
   */
  drainHeld(): HeldFinding[] {
    const out = [...this.pending.values()].map((held) => ({ version: held.version, alerts: held.alerts }));
    this.pending.clear();
    return out;
  }

  /** A version another node held: kept when newer than the one held here (emitted at flush()). */
  absorb(finding: HeldFinding): void {
    const version = { ...finding.version, updatedAt: typeof finding.version.updatedAt === 'number' ? finding.version.updatedAt : Number.NaN };
    const held = this.pending.get(version.id);
    if (held !== undefined && compareFindingVersions(version, held.version) <= 0) return;
    this.pending.delete(version.id);
    this.pending.set(version.id, { version, alerts: finding.alerts, update: false });
  }

  /** Findings currently held. */
  get pendingCount(): number {
    return this.pending.size;
  }

  private emit(version: GuardDutyFindingVersion, held: Held, out: Alert[]): void {
    if (held.update) this.stats.updates++;
    for (const alert of held.alerts) {
      if (held.update) alert.update = true;
      out.push(alert);
    }
    this.known.delete(version.id);
    this.known.set(version.id, version);
    if (this.known.size > this.maxKnown) {
      const oldest = this.known.keys().next().value as string;
      this.known.delete(oldest);
    }
  }
}
