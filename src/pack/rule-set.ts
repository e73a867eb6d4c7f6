import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import { loadRulePaths, parsePlaceholderFile } from '../sigma/index.ts';
import type { RuleTexts } from '../sigma/load.ts';
import { parseCorrelationDocument } from '../sigma/correlation.ts';
import type { CorrelationRule } from '../sigma/correlation.ts';
import { compileFilterDocument } from '../sigma/filter.ts';
import type { CompiledFilter } from '../sigma/filter.ts';
import { fileTooLarge, formatPosition, MAX_RULE_FILE_BYTES, readTextFile } from '../sigma/parse.ts';
import type { CompiledDetectionRule, PlaceholderValues, RawSigmaDocument } from '../sigma/types.ts';
import { resolveCorrelations } from '../engine/correlation/resolve.ts';
import { resolveFilterTargets } from '../engine/match/filters.ts';
import { sourcesOfRule } from '../sigma/log-sources.ts';
import { applyTuning, readTuningFile } from './tuning.ts';
import type { DisabledRule } from './tuning.ts';

/** The built-in pack, shipped beside the sources. */
export const DEFAULT_RULES_DIR = new URL('../../rules/', import.meta.url).pathname;

export interface RuleSetRequest {
  /** Rule files and folders, in order; the default pack first unless left out. */
  paths: string[];
  /** The --vars file for `|expand` placeholders. */
  varsFile?: string;
  /** --filters files and folders: filter documents only. */
  filterPaths?: string[];
  /** The clock for filters' and tuning overrides' `expires` (default: now). */
  now?: Date;
  /** --tuning: per-rule overrides (src/pack/tuning.ts), applied before anything is compiled into an index. */
  tuningFile?: string;
  /** Collects the rule files' texts as they are read (`paths` only), for the scan workers. */
  ruleTexts?: [string, string][];
  /** Compiles these rule files' texts instead of reading `paths` (a scan worker: the main thread read them). */
  readTexts?: RuleTexts;
}

export interface RuleSet {
  rules: CompiledDetectionRule[];
  otherDocuments: RawSigmaDocument[];
  /** Correlations whose references all resolved, inner ones before those that reference them. */
  correlations: CorrelationRule[];
  /** Every filter that compiled, expired ones included (they apply to nothing). */
  filters: CompiledFilter[];
  errors: LocatedError[];
  /** Not errors, but worth telling: expired filters (TH_RULE_EXPIRED), expired tuning and rules turned off through what they reference (TH_TUNING). */
  warnings: LocatedError[];
  /** Rules the tuning file switched off, and why (not in `rules` or `correlations`). */
  disabled: DisabledRule[];
}

async function loadVars(file: string, errors: LocatedError[]): Promise<PlaceholderValues> {
  let text: string;
  try {
    const read = await readTextFile(file, MAX_RULE_FILE_BYTES);
    if (!read.ok) {
      errors.push(read.reason === 'too-large' ? fileTooLarge(file, read.size, MAX_RULE_FILE_BYTES, 'the vars file') : located('TH_VARS', 'cannot read the vars file: not a regular file', file));
      return new Map();
    }
    text = read.text;
  } catch (error) {
    errors.push(located('TH_VARS', `cannot read the vars file: ${(error as Error).message}`, file));
    return new Map();
  }
  const parsed = parsePlaceholderFile(text, file);
  errors.push(...parsed.errors);
  return parsed.vars;
}

/** The TH_RULE_EXPIRED notice of a filter past its `expires` date. */
export function expiredFilterNotice(filter: CompiledFilter): LocatedError {
  const audit = [filter.owner === undefined ? '' : `owner: ${filter.owner}`, filter.reason === undefined ? '' : `reason: ${filter.reason}`].filter(Boolean).join('; ');
  return located('TH_RULE_EXPIRED', `filter ${filter.label} expired on ${filter.expires ?? '?'}${audit === '' ? '' : ` (${audit})`} and no longer applies: renew its 'expires' date or remove it`, formatPosition(filter.position));
}

/**
 * The warning for each detection rule whose logsource no AWS input provides (`product:
 * windows`...): it loads, but never matches. Worded as `scan` words it, located at the rule
 * (file:line:col).
 */
export function inapplicableRuleWarnings(rules: readonly CompiledDetectionRule[]): string[] {
  return rules
    .filter((rule) => sourcesOfRule(rule).length === 0)
    .map((rule) => `${formatPosition(rule.position)}: rule ${rule.name ?? rule.id} has logsource ${JSON.stringify(rule.logsource)}, which no AWS input provides; it will never match`);
}

/**
 * Loads every rule of a run and checks what only the whole set can tell: that ids and
 * names are unique, that correlations and filters reference rules that are loaded. A
 * duplicate keeps the first rule loaded and reports the second.
 */
export async function loadRuleSet(request: RuleSetRequest): Promise<RuleSet> {
  const errors: LocatedError[] = [];
  const warnings: LocatedError[] = [];
  const vars = request.varsFile === undefined ? new Map<string, readonly string[]>() : await loadVars(request.varsFile, errors);
  const collected = request.ruleTexts;
  const loaded = await loadRulePaths(request.paths, { vars }, {
    ...(collected === undefined ? {} : { onText: (file: string, text: string) => void collected.push([file, text]) }),
    ...(request.readTexts === undefined ? {} : { texts: request.readTexts }),
  });
  errors.push(...loaded.errors);

  const byId = new Map<string, CompiledDetectionRule>();
  const byName = new Map<string, CompiledDetectionRule>();
  const rules: CompiledDetectionRule[] = [];
  for (const rule of loaded.rules) {
    const location = `${rule.position.file}:${rule.position.line}:${rule.position.col}`;
    const sameId = byId.get(rule.id);
    if (sameId !== undefined) {
      errors.push(located('TH_RULE_DUPLICATE', `rule id ${rule.id} is already used by ${sameId.position.file}`, location));
      continue;
    }
    const sameName = rule.name === undefined ? undefined : byName.get(rule.name);
    if (sameName !== undefined) {
      errors.push(located('TH_RULE_DUPLICATE', `rule name ${rule.name} is already used by ${sameName.position.file}`, location));
      continue;
    }
    byId.set(rule.id, rule);
    if (rule.name !== undefined) byName.set(rule.name, rule);
    rules.push(rule);
  }

  const documents = [...loaded.otherDocuments];
  if (request.filterPaths !== undefined && request.filterPaths.length > 0) {
    const extra = await loadRulePaths(request.filterPaths, { vars });
    errors.push(...extra.errors);
    for (const rule of extra.rules) {
      errors.push(located('TH_RULE_SCHEMA', `--filters loads filter documents only; rule ${rule.name ?? rule.id} is left out (pass rules with --rules)`, formatPosition(rule.position)));
    }
    for (const document of extra.otherDocuments) {
      if (document.kind === 'filter') documents.push(document);
      else errors.push(located('TH_RULE_SCHEMA', '--filters loads filter documents only; this correlation is left out (pass it with --rules)', formatPosition(document.position)));
    }
  }

  const now = request.now ?? new Date();
  let tunedRules = rules;
  let tunedDocuments = documents;
  let disabled: DisabledRule[] = [];
  let changes = new Map<string, string[]>();
  if (request.tuningFile !== undefined) {
    const read = await readTuningFile(request.tuningFile);
    errors.push(...read.errors);
    const correlationDocuments = documents.filter((document) => document.kind === 'correlation');
    const tuned = applyTuning(read.tuning, rules, correlationDocuments, now);
    errors.push(...tuned.errors);
    warnings.push(...tuned.warnings);
    tunedRules = tuned.rules;
    tunedDocuments = [...tuned.correlations, ...documents.filter((document) => document.kind !== 'correlation')];
    disabled = tuned.disabled;
    changes = tuned.changes;
  }

  const parsedCorrelations: CorrelationRule[] = [];
  const filters: CompiledFilter[] = [];
  for (const document of tunedDocuments) {
    if (document.kind === 'correlation') {
      const parsed = parseCorrelationDocument(document);
      errors.push(...parsed.errors);
      if (parsed.rule !== undefined) {
        const applied = changes.get(parsed.rule.name ?? parsed.rule.id);
        parsedCorrelations.push(applied === undefined ? parsed.rule : { ...parsed.rule, tuning: applied });
      }
    } else {
      const compiled = compileFilterDocument(document, { vars, now });
      errors.push(...compiled.errors);
      if (compiled.filter !== undefined) filters.push(compiled.filter);
    }
  }
  const resolved = resolveCorrelations(tunedRules, parsedCorrelations);
  errors.push(...resolved.errors);
  const correlations = resolved.resolved.map((item) => item.rule);
  for (const filter of filters) if (filter.expired) warnings.push(expiredFilterNotice(filter));
  errors.push(...resolveFilterTargets(filters, tunedRules, correlations, disabled).errors);
  return { rules: tunedRules, otherDocuments: loaded.otherDocuments, correlations, filters, errors, warnings, disabled };
}
