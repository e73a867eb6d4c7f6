/**
 * GuardDuty finding type -> ATT&CK, and GuardDuty severity -> alert level
 * (seed-detections.md §3, after the CTID security-stack mapping of Amazon GuardDuty).
 *
 * Finding types read `ThreatPurpose:ResourceType/ThreatFamily.Mechanism!Artifact`. Table
 * patterns are globs (`*` = any run of characters) tested against the type and against the
 * type without its `!Artifact` suffix; every matching row contributes (a type can match
 * several, e.g. `UnauthorizedAccess:IAMUser/InstanceCredentialExfiltration.OutsideAWS` is
 * both T1078.004 and T1552.005). Tactics come from the ThreatPurpose when it names one,
 * else from the matching rows. Attack sequences carry their own tactics and techniques
 * (`service.detection.sequence.sequenceIndicators` and each signal's `signalIndicators`,
 * keys ATTACK_TACTIC / ATTACK_TECHNIQUE). Types the table does not know fall back to the
 * ThreatPurpose tactic alone. v18 ids that moved in v19 are emitted with their v19 partner.
 */
import type { LogRecord } from '../core/envelope.ts';
import { equivalentTechniques, tacticSlug, techniqueInfo, TECHNIQUES } from './techniques.ts';

export type GuardDutyLevel = 'low' | 'medium' | 'high' | 'critical';

/**
 * AWS bands as half-open intervals: >= 9 critical, [7, 9) high, [4, 7) medium, < 4 low
 * (so 8.95 is high, not a gap). A missing or non-numeric severity is low.
 */
export function levelForGuardDutySeverity(severity: number): GuardDutyLevel {
  if (!Number.isFinite(severity)) return 'low';
  if (severity >= 9) return 'critical';
  if (severity >= 7) return 'high';
  if (severity >= 4) return 'medium';
  return 'low';
}

interface MappingRow {
  patterns: readonly string[];
  techniques: readonly string[];
  /** Tactics used when the ThreatPurpose names none. */
  tactics: readonly string[];
}

/** The table of seed-detections.md §3, row for row. */
export const GUARDDUTY_ATTACK_TABLE: readonly MappingRow[] = [
  {
    patterns: ['UnauthorizedAccess:IAMUser/*', 'PenTest:IAMUser/*', 'Policy:IAMUser/RootCredentialUsage', '*:IAMUser/AnomalousBehavior'],
    techniques: ['T1078.004'],
    tactics: ['initial-access'],
  },
  { patterns: ['*/InstanceCredentialExfiltration*'], techniques: ['T1552.005'], tactics: ['credential-access'] },
  { patterns: ['Persistence:IAMUser/AnomalousBehavior'], techniques: ['T1098.001', 'T1098.004'], tactics: ['persistence'] },
  {
    patterns: ['Stealth:IAMUser/CloudTrailLoggingDisabled', 'Stealth:S3/ServerAccessLoggingDisabled', 'DefenseEvasion:IAMUser/AnomalousBehavior'],
    techniques: ['T1562.008', 'T1562.001'],
    tactics: ['defense-evasion'],
  },
  { patterns: ['Discovery:IAMUser/AnomalousBehavior', 'Discovery:S3/*'], techniques: ['T1580'], tactics: ['discovery'] },
  { patterns: ['Recon:IAMUser/*'], techniques: ['T1526'], tactics: ['discovery'] },
  {
    patterns: ['Recon:EC2/Portscan', 'Recon:EC2/PortProbe*', 'Impact:EC2/PortSweep'],
    techniques: ['T1046', 'T1595.001'],
    tactics: ['discovery', 'reconnaissance'],
  },
  { patterns: ['UnauthorizedAccess:EC2/SSHBruteForce', '*/RDPBruteForce'], techniques: ['T1110'], tactics: ['credential-access'] },
  {
    patterns: ['Backdoor:EC2/C&CActivity.B*', 'Trojan:EC2/DropPoint*', 'Trojan:EC2/BlackholeTraffic*'],
    techniques: ['T1071'],
    tactics: ['command-and-control'],
  },
  { patterns: ['Trojan:EC2/DGADomainRequest.*'], techniques: ['T1568.002'], tactics: ['command-and-control'] },
  { patterns: ['Trojan:EC2/DNSDataExfiltration'], techniques: ['T1048.003'], tactics: ['exfiltration'] },
  { patterns: ['UnauthorizedAccess:EC2/TorClient', '*/TorRelay'], techniques: ['T1090.003'], tactics: ['command-and-control'] },
  {
    patterns: ['CryptoCurrency:EC2/BitcoinTool.B*', 'Impact:EC2/BitcoinDomainRequest.Reputation'],
    techniques: ['T1496'],
    tactics: ['impact'],
  },
  { patterns: ['Backdoor:EC2/DenialOfService.*'], techniques: ['T1498'], tactics: ['impact'] },
  { patterns: ['Exfiltration:S3/*'], techniques: ['T1530', 'T1567.002'], tactics: ['exfiltration'] },
  { patterns: ['Impact:S3/MaliciousIPCaller'], techniques: ['T1485', 'T1565.001'], tactics: ['impact'] },
  { patterns: ['Impact:IAMUser/AnomalousBehavior'], techniques: ['T1531'], tactics: ['impact'] },
  { patterns: ['Behavior:EC2/NetworkPortUnusual'], techniques: ['T1571'], tactics: ['command-and-control'] },
];

/**
 * ThreatPurpose -> tactics. The seed's fallback list, plus the purposes whose tactic is plain
 * (Discovery, PrivilegeEscalation, Execution, LateralMovement, Collection). The Defense
 * Evasion purposes also carry the v19 `defense-impairment` tactic.
 */
export const THREAT_PURPOSE_TACTICS: Readonly<Record<string, readonly string[]>> = {
  CredentialAccess: ['credential-access'],
  Persistence: ['persistence'],
  Exfiltration: ['exfiltration'],
  Impact: ['impact'],
  CryptoCurrency: ['impact'],
  Trojan: ['command-and-control'],
  Backdoor: ['command-and-control'],
  UnauthorizedAccess: ['initial-access'],
  InitialAccess: ['initial-access'],
  Stealth: ['defense-evasion', 'defense-impairment'],
  DefenseEvasion: ['defense-evasion', 'defense-impairment'],
  DefenseImpairment: ['defense-evasion', 'defense-impairment'],
  Discovery: ['discovery'],
  PrivilegeEscalation: ['privilege-escalation'],
  Execution: ['execution'],
  LateralMovement: ['lateral-movement'],
  Collection: ['collection'],
};

function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*');
  return new RegExp(`^${body}$`);
}

const COMPILED = GUARDDUTY_ATTACK_TABLE.map((row) => ({ row, patterns: row.patterns.map(globToRegExp) }));

function pushUnique(list: string[], values: Iterable<string>): void {
  for (const v of values) if (!list.includes(v)) list.push(v);
}

function asObject(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function pick(obj: Record<string, unknown> | undefined, ...keys: string[]): unknown {
  if (!obj) return undefined;
  for (const k of keys) if (obj[k] !== undefined) return obj[k];
  return undefined;
}

const TECHNIQUE_ID = /\bT\d{4}(?:\.\d{3})?\b/g;

/** Indicators of an attack sequence finding, in GuardDuty (camelCase) or Security Hub (PascalCase) form. */
function sequenceIndicators(finding: LogRecord): Record<string, unknown>[] {
  const service = asObject(pick(finding, 'service', 'Service'));
  const detection = asObject(pick(service, 'detection', 'Detection')) ?? asObject(pick(finding, 'detection', 'Detection'));
  const sequence = asObject(pick(detection, 'sequence', 'Sequence'));
  const out: Record<string, unknown>[] = [];
  const take = (list: unknown): void => {
    if (!Array.isArray(list)) return;
    for (const item of list) {
      const o = asObject(item);
      if (o) out.push(o);
    }
  };
  take(pick(sequence, 'sequenceIndicators', 'SequenceIndicators'));
  const signals = pick(sequence, 'signals', 'Signals');
  if (Array.isArray(signals)) for (const s of signals) take(pick(asObject(s), 'signalIndicators', 'SignalIndicators'));
  return out;
}

function sequenceAttack(finding: LogRecord): { techniques: string[]; tactics: string[] } {
  const techniques: string[] = [];
  const tactics: string[] = [];
  const byName = new Map(TECHNIQUES.map((t) => [t.name.toLowerCase(), t.id]));
  for (const indicator of sequenceIndicators(finding)) {
    const key = String(pick(indicator, 'key', 'Key') ?? '').toUpperCase();
    const values = pick(indicator, 'values', 'Values');
    if (!Array.isArray(values)) continue;
    for (const value of values) {
      if (typeof value !== 'string') continue;
      if (key === 'ATTACK_TACTIC') {
        const slug = tacticSlug(value);
        if (slug !== undefined) pushUnique(tactics, [slug]);
      } else if (key === 'ATTACK_TECHNIQUE') {
        const ids = value.toUpperCase().match(TECHNIQUE_ID);
        if (ids) pushUnique(techniques, ids);
        else {
          const id = byName.get(value.trim().toLowerCase());
          if (id !== undefined) pushUnique(techniques, [id]);
        }
      }
    }
  }
  return { techniques, tactics };
}

/** Adds the v19 (or v18) partner of each technique, and the tactics of the partners. */
function withEquivalents(result: { techniques: string[]; tactics: string[] }): { techniques: string[]; tactics: string[] } {
  for (const id of [...result.techniques]) {
    for (const other of equivalentTechniques(id)) {
      pushUnique(result.techniques, [other]);
      const info = techniqueInfo(other);
      if (info) pushUnique(result.tactics, info.tactics);
    }
  }
  return result;
}

/**
 * ATT&CK techniques and tactic slugs for a GuardDuty finding type. Pass the finding for
 * AttackSequence types: their techniques and tactics are read from it.
 */
export function attackForFindingType(type: string, finding?: LogRecord): { techniques: string[]; tactics: string[] } {
  const colon = type.indexOf(':');
  const purpose = colon > 0 ? type.slice(0, colon) : '';
  const purposeTactics = THREAT_PURPOSE_TACTICS[purpose];

  if (purpose === 'AttackSequence') {
    const fromFinding = finding ? sequenceAttack(finding) : { techniques: [], tactics: [] };
    for (const id of fromFinding.techniques) {
      const info = techniqueInfo(id);
      if (fromFinding.tactics.length === 0 && info) pushUnique(fromFinding.tactics, info.tactics);
    }
    return withEquivalents(fromFinding);
  }

  const bang = type.indexOf('!');
  const bare = bang > 0 ? type.slice(0, bang) : type;
  const techniques: string[] = [];
  const rowTactics: string[] = [];
  for (const { row, patterns } of COMPILED) {
    if (patterns.some((p) => p.test(type) || p.test(bare))) {
      pushUnique(techniques, row.techniques);
      pushUnique(rowTactics, row.tactics);
    }
  }
  const tactics = purposeTactics ? [...purposeTactics] : rowTactics;
  return withEquivalents({ techniques, tactics });
}
