/**
 * Every Enterprise ATT&CK technique id, parsed once from the generated enterprise-catalog.ts,
 * plus the revoked and deprecated ids (the generated ones, and a curated list for those the
 * generated source does not carry; see src/attack/README.md). `rules lint` uses it to tell a
 * well-formed but unknown id (`attack.t9999`) and a retired one (`attack.t1086`) from a live one.
 */

import { ENTERPRISE_ATTACK_VERSION, ENTERPRISE_DEPRECATED, ENTERPRISE_REVOKED, ENTERPRISE_TECHNIQUES } from './enterprise-catalog.ts';

export { ENTERPRISE_ATTACK_SOURCE, ENTERPRISE_ATTACK_VERSION } from './enterprise-catalog.ts';

/** The tactic codes of enterprise-catalog.ts and the Sigma tag slugs they stand for. */
export const TACTIC_CODES: Readonly<Record<string, string>> = {
  recon: 'reconnaissance',
  resdev: 'resource-development',
  init: 'initial-access',
  exec: 'execution',
  persist: 'persistence',
  privesc: 'privilege-escalation',
  evasion: 'defense-evasion',
  impair: 'defense-impairment',
  stealth: 'stealth',
  cred: 'credential-access',
  disc: 'discovery',
  lateral: 'lateral-movement',
  collect: 'collection',
  c2: 'command-and-control',
  exfil: 'exfiltration',
  impact: 'impact',
};

export interface CatalogTechnique {
  id: string;
  /** `Parent: Sub-technique` for a sub-technique, as ATT&CK Navigator shows it. */
  name: string;
  tactics: readonly string[];
}

/**
 * Revoked ids the generated source leaves out (pySigma's data drops revoked objects), each with
 * the technique that replaced it in MITRE's data (its `revoked-by` relationship). Mostly the
 * ATT&CK v7 (July 2020) move to sub-techniques; T1547.011 was revoked by T1647 in v11.
 */
const CURATED_REVOKED: readonly (readonly [id: string, name: string, replacedBy: string])[] = [
  ['T1028', 'Windows Remote Management', 'T1021.006'],
  ['T1076', 'Remote Desktop Protocol', 'T1021.001'],
  ['T1077', 'Windows Admin Shares', 'T1021.002'],
  ['T1081', 'Credentials in Files', 'T1552.001'],
  ['T1085', 'Rundll32', 'T1218.011'],
  ['T1086', 'PowerShell', 'T1059.001'],
  ['T1089', 'Disabling Security Tools', 'T1562.001'],
  ['T1093', 'Process Hollowing', 'T1055.012'],
  ['T1099', 'Timestomp', 'T1070.006'],
  ['T1100', 'Web Shell', 'T1505.003'],
  ['T1107', 'File Deletion', 'T1070.004'],
  ['T1117', 'Regsvr32', 'T1218.010'],
  ['T1118', 'InstallUtil', 'T1218.004'],
  ['T1121', 'Regsvcs/Regasm', 'T1218.009'],
  ['T1145', 'Private Keys', 'T1552.004'],
  ['T1150', 'Plist Modification', 'T1647'],
  ['T1155', 'AppleScript', 'T1059.002'],
  ['T1170', 'Mshta', 'T1218.005'],
  ['T1191', 'CMSTP', 'T1218.003'],
  ['T1208', 'Kerberoasting', 'T1558.003'],
  ['T1214', 'Credentials in Registry', 'T1552.002'],
  ['T1502', 'Parent PID Spoofing', 'T1134.004'],
  ['T1504', 'PowerShell Profile', 'T1546.013'],
  ['T1527', 'Application Access Token', 'T1550.001'],
  ['T1536', 'Revert Cloud Instance', 'T1578.004'],
  ['T1547.011', 'Plist Modification', 'T1647'],
];

/** Deprecated ids (no replacement) the generated source leaves out. */
const CURATED_DEPRECATED: readonly (readonly [id: string, name: string])[] = [
  ['T1064', 'Scripting'],
  ['T1108', 'Redundant Access'],
];

function parseTechniques(text: string): Map<string, CatalogTechnique> {
  const out = new Map<string, CatalogTechnique>();
  let parent: CatalogTechnique | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '') continue;
    if (line.startsWith('.')) {
      if (parent === undefined) throw new Error(`enterprise-catalog.ts: sub-technique before any technique: ${line}`);
      const space = line.indexOf(' ');
      const suffix = line.slice(0, space);
      let rest = line.slice(space + 1);
      let tactics = parent.tactics;
      if (rest.startsWith('=')) {
        const next = rest.indexOf(' ');
        tactics = codes(rest.slice(1, next));
        rest = rest.slice(next + 1);
      }
      const id = `${parent.id}${suffix}`;
      out.set(id, { id, name: `${parent.name}: ${rest}`, tactics });
    } else {
      const first = line.indexOf(' ');
      const second = line.indexOf(' ', first + 1);
      const id = line.slice(0, first);
      parent = { id, name: line.slice(second + 1), tactics: codes(line.slice(first + 1, second)) };
      out.set(id, parent);
    }
  }
  return out;
}

function codes(field: string): string[] {
  return field.split(',').map((code) => {
    const slug = TACTIC_CODES[code];
    if (slug === undefined) throw new Error(`enterprise-catalog.ts: unknown tactic code ${code}`);
    return slug;
  });
}

let techniques: Map<string, CatalogTechnique> | undefined;
let revoked: Map<string, { name?: string; replacedBy?: string }> | undefined;
let deprecated: Map<string, { name?: string }> | undefined;

function load(): void {
  if (techniques !== undefined) return;
  techniques = parseTechniques(ENTERPRISE_TECHNIQUES);
  revoked = new Map();
  for (const [id, name, replacedBy] of CURATED_REVOKED) revoked.set(id, { name, replacedBy });
  for (const line of ENTERPRISE_REVOKED.split('\n')) {
    const [id, replacedBy] = line.trim().split(/\s+/);
    if (id !== undefined && id !== '') revoked.set(id, { ...revoked.get(id), ...(replacedBy === undefined ? {} : { replacedBy }) });
  }
  deprecated = new Map();
  for (const [id, name] of CURATED_DEPRECATED) deprecated.set(id, { name });
  for (const line of ENTERPRISE_DEPRECATED.split('\n')) {
    const id = line.trim();
    if (id !== '' && !deprecated.has(id)) deprecated.set(id, {});
  }
}

/** A live (neither revoked nor deprecated) Enterprise technique of the catalog, by id (`T1098.001`). */
export function catalogTechnique(id: string): CatalogTechnique | undefined {
  load();
  return techniques?.get(id.toUpperCase());
}

/** Every live technique of the catalog, in id order. */
export function catalogTechniques(): CatalogTechnique[] {
  load();
  return [...(techniques?.values() ?? [])];
}

/** A revoked id: its old name and the id that replaced it, when known. */
export function revokedTechnique(id: string): { name?: string; replacedBy?: string } | undefined {
  load();
  return revoked?.get(id.toUpperCase());
}

/** A deprecated id (retired without a replacement). */
export function deprecatedTechnique(id: string): { name?: string } | undefined {
  load();
  return deprecated?.get(id.toUpperCase());
}

/** The catalog's ATT&CK version, for messages. */
export function catalogVersion(): string {
  return ENTERPRISE_ATTACK_VERSION;
}
