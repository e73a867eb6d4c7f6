/**
 * The loaded rules as `serve` shows them: what the detail page says about an alert's rule
 * (description, references, false positives) and which ATT&CK techniques the rules cover.
 * Built once at start from loadRuleSet (src/pack/rule-set.ts), the way scan loads them.
 */
import { attackTagsToIds } from '../attack/techniques.ts';
import { GUARDDUTY_ATTACK_TABLE } from '../attack/guardduty-mapping.ts';
import { BUILTIN_RULES, GUARDDUTY_PASSTHROUGH_RULE } from '../engine/alerts/builtin-rules.ts';
import type { RuleSet } from '../pack/rule-set.ts';
import type { SigmaLevel } from '../core/levels.ts';
import { stringify } from 'yaml';

function logicOf(source: Readonly<Record<string, unknown>>): string | null {
  const part = source.detection !== undefined ? { detection: source.detection } : source.correlation !== undefined ? { correlation: source.correlation } : undefined;
  if (part === undefined) return null;
  try {
    return stringify(part, { lineWidth: 0 });
  } catch {
    return null;
  }
}

export interface CatalogRule {
  id: string;
  name: string | null;
  title: string;
  level: SigmaLevel;
  kind: 'detection' | 'correlation' | 'builtin';
  description: string | null;
  references: string[];
  falsepositives: string[];
  techniques: string[];
  tactics: string[];
  /** The rule's detection (or correlation) section as YAML: what it matches. */
  logic: string | null;
}

export interface RuleCatalog {
  rules: CatalogRule[];
  /** By id and by name. */
  find(idOrName: string): CatalogRule | undefined;
  /** Technique id -> the rules covering it. */
  coverage(): Map<string, CatalogRule[]>;
  errors: number;
}

export function ruleCatalog(set: Pick<RuleSet, 'rules' | 'correlations' | 'errors'>): RuleCatalog {
  const rules: CatalogRule[] = [];
  for (const rule of [...set.rules, ...set.correlations]) {
    const attack = attackTagsToIds(rule.tags);
    rules.push({
      id: rule.id,
      name: rule.name ?? null,
      title: rule.title,
      level: rule.level,
      kind: rule.kind,
      description: rule.description ?? null,
      references: rule.references,
      falsepositives: rule.falsepositives,
      techniques: attack.techniques,
      tactics: attack.tactics,
      logic: logicOf(rule.source),
    });
  }
  for (const rule of BUILTIN_RULES) {
    // The GuardDuty passthrough's ATT&CK depends on the finding type: every mapped technique.
    const techniques = rule.id === GUARDDUTY_PASSTHROUGH_RULE.id ? [...new Set(GUARDDUTY_ATTACK_TABLE.flatMap((row) => row.techniques))] : rule.attack.techniques;
    const tactics = rule.id === GUARDDUTY_PASSTHROUGH_RULE.id ? [...new Set(GUARDDUTY_ATTACK_TABLE.flatMap((row) => row.tactics))] : rule.attack.tactics;
    rules.push({ id: rule.id, name: rule.name ?? null, title: rule.title, level: rule.level, kind: 'builtin', description: 'Built-in detection (not a Sigma file): its level and ATT&CK are decided per alert.', references: [], falsepositives: [], techniques, tactics, logic: null });
  }
  const index = new Map<string, CatalogRule>();
  for (const rule of rules) {
    index.set(rule.id, rule);
    if (rule.name !== null && !index.has(rule.name)) index.set(rule.name, rule);
  }
  return {
    rules,
    errors: set.errors.length,
    find: (idOrName) => index.get(idOrName),
    coverage: () => {
      const map = new Map<string, CatalogRule[]>();
      for (const rule of rules) {
        for (const technique of rule.techniques) {
          const list = map.get(technique) ?? [];
          list.push(rule);
          map.set(technique, list);
        }
      }
      return new Map([...map].sort(([a], [b]) => a.localeCompare(b)));
    },
  };
}
