/**
 * ATT&CK coverage: the techniques the loaded rules cover, and how many alerts each had in a
 * period (every status; a technique counts its sub-techniques' alerts too). Per rule, the share
 * of closed alerts that were false positives (the store's ruleOutcomes).
 */
import { catalogTechnique } from '../attack/catalog.ts';
import type { AlertStore } from '../store/alert-store.ts';
import type { RuleCatalog } from './rule-catalog.ts';

export interface TechniqueCoverage {
  id: string;
  name: string | null;
  rules: { id: string; name: string | null; title: string }[];
  /** Alerts in the period (every status). */
  alerts: number;
}

export interface Coverage {
  since: string | null;
  until: string | null;
  rules: number;
  techniques: TechniqueCoverage[];
  covered: number;
  alerted: number;
}

export async function coverageOf(store: AlertStore, catalog: RuleCatalog, period: { since?: string; until?: string }): Promise<Coverage> {
  const techniques: TechniqueCoverage[] = [];
  for (const [id, rules] of catalog.coverage()) {
    const page = await store.list({ filter: { technique: [id], status: [], ...period }, limit: 1 });
    techniques.push({ id, name: catalogTechnique(id)?.name ?? null, rules: rules.map((rule) => ({ id: rule.id, name: rule.name, title: rule.title })), alerts: page.total });
  }
  return {
    since: period.since ?? null,
    until: period.until ?? null,
    rules: catalog.rules.length,
    techniques,
    covered: techniques.length,
    alerted: techniques.filter((technique) => technique.alerts > 0).length,
  };
}

export interface RuleOutcome {
  rule_id: string;
  rule_name: string | null;
  title: string | null;
  closed: number;
  false_positive: number;
  /** false_positive / closed, null when nothing was closed. */
  false_positive_share: number | null;
}

export async function ruleOutcomesOf(store: AlertStore, catalog: RuleCatalog): Promise<RuleOutcome[]> {
  return (await store.ruleOutcomes()).map((row) => ({
    rule_id: row.rule_id,
    rule_name: row.rule_name,
    title: catalog.find(row.rule_id)?.title ?? null,
    closed: Number(row.closed),
    false_positive: Number(row.false_positive),
    false_positive_share: Number(row.closed) === 0 ? null : Number(row.false_positive) / Number(row.closed),
  }));
}
