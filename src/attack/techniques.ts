/**
 * The ATT&CK (Enterprise) techniques and tactics the built-in pack and the GuardDuty mapping
 * use, the v18 <-> v19 id redirects, and the parser from Sigma tags to ids.
 *
 * Tactics are carried as their Sigma tag slugs (`persistence`, `defense-evasion`), the form
 * alerts use. ATT&CK v19 split Defense Evasion into `defense-impairment` and `stealth` and
 * moved the Impair Defenses sub-techniques: T1562.008 is T1685.002, T1562.001 is T1685 and
 * so on (ATTACK_V19_REDIRECTS, each one read off a SigmaHQ rule retagged for v19). Until every
 * consumer speaks v19 an alert carries both ids of any rule tag, the user's rules included:
 * attackTagsToIds() adds the partner that equivalentTechniques() gives.
 *
 * TECHNIQUES names what the built-in pack and the GuardDuty mapping use; techniqueInfo() falls
 * back to the whole Enterprise catalog (catalog.ts) for every other id.
 */

import { catalogTechnique, deprecatedTechnique, revokedTechnique } from './catalog.ts';

export interface TacticInfo {
  /** Sigma tag slug, e.g. `credential-access`. */
  slug: string;
  /** ATT&CK tactic id, e.g. `TA0006`; absent for `stealth` (v19 gave it TA0005, which stays `defense-evasion` here). */
  id?: string;
  name: string;
}

export interface TechniqueInfo {
  id: string;
  name: string;
  /** Tactic slugs the technique belongs to. */
  tactics: readonly string[];
}

export const TACTICS: readonly TacticInfo[] = [
  { slug: 'reconnaissance', id: 'TA0043', name: 'Reconnaissance' },
  { slug: 'resource-development', id: 'TA0042', name: 'Resource Development' },
  { slug: 'initial-access', id: 'TA0001', name: 'Initial Access' },
  { slug: 'execution', id: 'TA0002', name: 'Execution' },
  { slug: 'persistence', id: 'TA0003', name: 'Persistence' },
  { slug: 'privilege-escalation', id: 'TA0004', name: 'Privilege Escalation' },
  { slug: 'defense-evasion', id: 'TA0005', name: 'Defense Evasion' },
  { slug: 'credential-access', id: 'TA0006', name: 'Credential Access' },
  { slug: 'discovery', id: 'TA0007', name: 'Discovery' },
  { slug: 'lateral-movement', id: 'TA0008', name: 'Lateral Movement' },
  { slug: 'collection', id: 'TA0009', name: 'Collection' },
  { slug: 'command-and-control', id: 'TA0011', name: 'Command and Control' },
  { slug: 'exfiltration', id: 'TA0010', name: 'Exfiltration' },
  { slug: 'impact', id: 'TA0040', name: 'Impact' },
  { slug: 'defense-impairment', id: 'TA0112', name: 'Defense Impairment' },
  { slug: 'stealth', name: 'Stealth' },
];

const T = (id: string, name: string, ...tactics: string[]): TechniqueInfo => ({ id, name, tactics });

export const TECHNIQUES: readonly TechniqueInfo[] = [
  T('T1021.004', 'Remote Services: SSH', 'lateral-movement'),
  T('T1046', 'Network Service Discovery', 'discovery'),
  T('T1048.003', 'Exfiltration Over Unencrypted Non-C2 Protocol', 'exfiltration'),
  T('T1059', 'Command and Scripting Interpreter', 'execution'),
  T('T1059.009', 'Command and Scripting Interpreter: Cloud API', 'execution'),
  T('T1071', 'Application Layer Protocol', 'command-and-control'),
  T('T1078', 'Valid Accounts', 'defense-evasion', 'persistence', 'privilege-escalation', 'initial-access'),
  T('T1078.004', 'Valid Accounts: Cloud Accounts', 'defense-evasion', 'persistence', 'privilege-escalation', 'initial-access'),
  T('T1090.003', 'Proxy: Multi-hop Proxy', 'command-and-control'),
  T('T1098', 'Account Manipulation', 'persistence', 'privilege-escalation'),
  T('T1098.001', 'Account Manipulation: Additional Cloud Credentials', 'persistence', 'privilege-escalation'),
  T('T1098.003', 'Account Manipulation: Additional Cloud Roles', 'persistence', 'privilege-escalation'),
  T('T1098.004', 'Account Manipulation: SSH Authorized Keys', 'persistence', 'privilege-escalation'),
  T('T1110', 'Brute Force', 'credential-access'),
  T('T1204', 'User Execution', 'execution'),
  T('T1484.002', 'Domain or Tenant Policy Modification: Trust Modification', 'defense-evasion', 'privilege-escalation'),
  T('T1485', 'Data Destruction', 'impact'),
  T('T1496', 'Resource Hijacking', 'impact'),
  T('T1498', 'Network Denial of Service', 'impact'),
  T('T1526', 'Cloud Service Discovery', 'discovery'),
  T('T1530', 'Data from Cloud Storage', 'collection'),
  T('T1531', 'Account Access Removal', 'impact'),
  T('T1537', 'Transfer Data to Cloud Account', 'exfiltration'),
  T('T1552', 'Unsecured Credentials', 'credential-access'),
  T('T1552.005', 'Unsecured Credentials: Cloud Instance Metadata API', 'credential-access'),
  T('T1562', 'Impair Defenses', 'defense-evasion'),
  T('T1562.001', 'Impair Defenses: Disable or Modify Tools', 'defense-evasion'),
  T('T1562.008', 'Impair Defenses: Disable or Modify Cloud Logs', 'defense-evasion'),
  T('T1565.001', 'Data Manipulation: Stored Data Manipulation', 'impact'),
  T('T1567.002', 'Exfiltration Over Web Service: Exfiltration to Cloud Storage', 'exfiltration'),
  T('T1568.002', 'Dynamic Resolution: Domain Generation Algorithms', 'command-and-control'),
  T('T1571', 'Non-Standard Port', 'command-and-control'),
  T('T1578.002', 'Modify Cloud Compute Infrastructure: Create Cloud Instance', 'defense-evasion'),
  T('T1580', 'Cloud Infrastructure Discovery', 'discovery'),
  T('T1595.001', 'Active Scanning: Scanning IP Blocks', 'reconnaissance'),
  T('T1666', 'Modify Cloud Resource Hierarchy', 'defense-evasion'),
  // ATT&CK v19 ids (SigmaHQ retag); names follow the v18 techniques they replace.
  T('T1685', 'Disable or Modify Tools (v19 id of T1562.001)', 'defense-impairment'),
  T('T1685.002', 'Disable or Modify Cloud Logs (v19 id of T1562.008)', 'defense-impairment'),
  // Added with the next ring of CloudTrail rules (issue 12).
  T('T1021', 'Remote Services', 'lateral-movement'),
  T('T1021.007', 'Remote Services: Cloud Services', 'lateral-movement'),
  T('T1496.001', 'Resource Hijacking: Compute Hijacking', 'impact'),
  T('T1496.004', 'Resource Hijacking: Cloud Service Hijacking', 'impact'),
  T('T1550.001', 'Use Alternate Authentication Material: Application Access Token', 'defense-evasion', 'lateral-movement'),
  T('T1555.006', 'Credentials from Password Stores: Cloud Secrets Management Stores', 'credential-access'),
  T('T1556', 'Modify Authentication Process', 'credential-access', 'defense-evasion', 'persistence'),
  T('T1556.007', 'Modify Authentication Process: Hybrid Identity', 'credential-access', 'defense-evasion', 'persistence'),
  T('T1562.007', 'Impair Defenses: Disable or Modify Cloud Firewall', 'defense-evasion'),
  T('T1606.002', 'Forge Web Credentials: SAML Tokens', 'credential-access'),
  T('T1648', 'Serverless Execution', 'execution'),
  T('T1651', 'Cloud Administration Command', 'execution'),
  T('T1087.004', 'Account Discovery: Cloud Account', 'discovery'),
  T('T1619', 'Cloud Storage Object Discovery', 'discovery'),
];

/**
 * ATT&CK v18 id -> v19 id. Only redirects read off a SigmaHQ rule whose tags went from the
 * first id to the second in SigmaHQ's v19 retag (rule id, file):
 * - T1562.001 -> T1685: SigmaHQ commit b8156d24a (aws_guardduty_disruption.yml and others).
 * - T1562.008 -> T1685.002: 4db60cc0-36fb-42b7-9b58-a5b53019fb74 aws_cloudtrail_disable_logging.yml.
 * - T1562.012 -> T1685.004: bed26dea-4525-47f4-b24a-76e30e44ffb0 proc_creation_lnx_auditctl_clear_rules.yml.
 * - T1562.004 -> T1686: e3a8a052-111f-4606-9aee-f28ebeb76776 proc_creation_lnx_security_tools_disabling.yml.
 * - T1562.007 -> T1686.001: c803b2ce-c4a2-4836-beae-b112010390b1 aws_cloudtrail_new_route_added.yml.
 * Each v19 id has one v18 id here, so the reverse map is exact.
 */
export const ATTACK_V19_IDS: Readonly<Record<string, string>> = {
  'T1562.001': 'T1685',
  'T1562.008': 'T1685.002',
  'T1562.012': 'T1685.004',
  'T1562.004': 'T1686',
  'T1562.007': 'T1686.001',
};

/** v18 id -> v19 id, and back. */
export const ATTACK_V19_REDIRECTS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(ATTACK_V19_IDS).flatMap(([v18, v19]) => [
    [v18, v19],
    [v19, v18],
  ]),
);

const TECHNIQUE_BY_ID = new Map(TECHNIQUES.map((t) => [t.id, t]));
const TACTIC_BY_SLUG = new Map(TACTICS.map((t) => [t.slug, t]));
const TACTIC_BY_ID = new Map(TACTICS.filter((t) => t.id !== undefined).map((t) => [t.id as string, t]));

export function techniqueInfo(id: string): TechniqueInfo | undefined {
  const upper = id.toUpperCase();
  const own = TECHNIQUE_BY_ID.get(upper);
  if (own !== undefined) return own;
  const fromCatalog = catalogTechnique(upper);
  if (fromCatalog !== undefined) return fromCatalog;
  const v18 = V19_TO_V18.get(upper);
  const moved = v18 === undefined ? undefined : catalogTechnique(v18);
  return moved === undefined ? undefined : { id: upper, name: `${moved.name.split(': ').pop() ?? moved.name} (v19 id of ${moved.id})`, tactics: ['defense-impairment'] };
}

const V19_TO_V18 = new Map(Object.entries(ATTACK_V19_IDS).map(([v18, v19]) => [v19, v18]));

/** What trailhound knows of a technique id (`T1086`, `T1685.002`): lint reports the last three. */
export type TechniqueStatus =
  | { readonly kind: 'active'; readonly info: TechniqueInfo }
  /** An ATT&CK v19 id (a redirect's target or a TECHNIQUES entry outside the v18 catalog). */
  | { readonly kind: 'v19'; readonly info: TechniqueInfo | undefined; readonly v18?: string }
  | { readonly kind: 'revoked'; readonly name?: string; readonly replacedBy?: string }
  | { readonly kind: 'deprecated'; readonly name?: string }
  | { readonly kind: 'unknown' };

export function techniqueStatus(id: string): TechniqueStatus {
  const upper = id.toUpperCase();
  const live = catalogTechnique(upper);
  if (live !== undefined) return { kind: 'active', info: TECHNIQUE_BY_ID.get(upper) ?? live };
  const v18 = V19_TO_V18.get(upper);
  if (v18 !== undefined) return { kind: 'v19', info: techniqueInfo(upper), v18 };
  const revoked = revokedTechnique(upper);
  if (revoked !== undefined) return { kind: 'revoked', ...revoked };
  const deprecated = deprecatedTechnique(upper);
  if (deprecated !== undefined) return { kind: 'deprecated', ...deprecated };
  const own = TECHNIQUE_BY_ID.get(upper);
  if (own !== undefined) return { kind: 'v19', info: own };
  return { kind: 'unknown' };
}

export function tacticInfo(slugOrId: string): TacticInfo | undefined {
  return TACTIC_BY_SLUG.get(slugOrId) ?? TACTIC_BY_ID.get(slugOrId.toUpperCase());
}

/** The technique's id in the other ATT&CK version (v18 <-> v19), if it moved. */
export function equivalentTechniques(id: string): string[] {
  const other = ATTACK_V19_REDIRECTS[id.toUpperCase()];
  return other === undefined ? [] : [other];
}

/**
 * A tactic named in any common form as its slug: `TA0006`, `Credential Access`,
 * `CredentialAccess`, `credential_access`, `credential-access`. Undefined when unknown.
 */
export function tacticSlug(name: string): string | undefined {
  const trimmed = name.trim();
  const byId = TACTIC_BY_ID.get(trimmed.toUpperCase());
  if (byId) return byId.slug;
  const slug = trimmed
    .replace(/([a-z])([A-Z])/g, '$1-$2')
    .replace(/[\s_]+/g, '-')
    .toLowerCase();
  if (TACTIC_BY_SLUG.has(slug)) return slug;
  if (slug === 'command-control' || slug === 'c2') return 'command-and-control';
  return undefined;
}

const TECHNIQUE_TAG = /^attack\.(t\d{4}(?:\.\d{3})?)$/i;
const TACTIC_TAG = /^attack\.([a-z]+(?:[-_][a-z]+)*)$/i;
const TACTIC_ID_TAG = /^attack\.(ta\d{4})$/i;

/**
 * ATT&CK ids from Sigma tags: `attack.t1098.001` -> `T1098.001`, `attack.persistence` ->
 * `persistence`, `attack.ta0003` -> `persistence`. Group (`attack.g0016`) and software
 * (`attack.s0002`) tags and non-ATT&CK tags are ignored. Each technique is followed by its
 * id in the other ATT&CK version when it moved between v18 and v19 (equivalentTechniques), so
 * a rule tagged only `attack.t1562.008` yields `T1562.008, T1685.002`. Order kept (first
 * appearance), duplicates dropped.
 */
export function attackTagsToIds(tags: readonly string[]): { techniques: string[]; tactics: string[] } {
  const techniques: string[] = [];
  const tactics: string[] = [];
  for (const raw of tags) {
    const tag = raw.trim();
    const technique = TECHNIQUE_TAG.exec(tag);
    if (technique?.[1] !== undefined) {
      const id = technique[1].toUpperCase();
      for (const each of [id, ...equivalentTechniques(id)]) if (!techniques.includes(each)) techniques.push(each);
      continue;
    }
    const tacticId = TACTIC_ID_TAG.exec(tag);
    if (tacticId?.[1] !== undefined) {
      const slug = TACTIC_BY_ID.get(tacticId[1].toUpperCase())?.slug;
      if (slug !== undefined && !tactics.includes(slug)) tactics.push(slug);
      continue;
    }
    const tactic = TACTIC_TAG.exec(tag);
    if (tactic?.[1] !== undefined) {
      const slug = tactic[1].toLowerCase().replace(/_/g, '-');
      if (/^[gs]\d{4}$/.test(slug)) continue;
      if (!tactics.includes(slug)) tactics.push(slug);
    }
  }
  return { techniques, tactics };
}
