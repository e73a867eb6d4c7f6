/**
 * Tuning files (`--tuning FILE`, `tuning:` in the watch config): per-environment overrides of
 * any loaded rule, built-in or not, without copying it (docs/tuning.md).
 *
 * ```yaml
 * rules:
 *   aws-ct-discovery-burst:
 *     correlation: { timespan: 1h, condition: { gte: 12 } }
 *     level: medium
 *   aws-ct-ec2-launch-with-userdata:
 *     disabled: true
 *     reason: "golden-AMI pipeline"     # required with disabled
 *     owner: platform-security@example.com
 *     expires: 2027-03-01               # optional; after it, the override no longer applies
 * ```
 *
 * Reading checks the file's shape with located errors (TH_TUNING, `file:line:col`). Applying
 * happens in loadRuleSet before correlations are parsed and before any index is built: a
 * disabled rule is not loaded at all, a correlation's window, threshold and group-by are
 * spliced into its document (positions of the tuning file kept, so a bad value is reported
 * there), a level replaces the rule's. Each applied change is recorded on the rule
 * (`tuning`), and alerts carry it.
 */
import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import { closestName } from '../core/did-you-mean.ts';
import { SIGMA_LEVELS } from '../core/levels.ts';
import type { SigmaLevel } from '../core/levels.ts';
import { fileTooLarge, formatPosition, mapEntry, MAX_RULE_FILE_BYTES, parseYamlFile, readTextFile } from '../sigma/parse.ts';
import { parseTimespan } from '../sigma/correlation.ts';
import { isCalendarDate, isExpired } from '../sigma/filter.ts';
import type { CompiledDetectionRule, RawSigmaDocument, SigmaMapEntry, SigmaMapNode, SigmaNode, SourcePosition } from '../sigma/types.ts';

/** The overrides a correlation rule accepts under `correlation:`. */
const CORRELATION_KEYS = ['timespan', 'condition', 'group-by'] as const;
const OVERRIDE_KEYS = ['disabled', 'reason', 'owner', 'expires', 'level', 'correlation'] as const;
const CONDITION_OPERATORS = ['gt', 'gte', 'lt', 'lte', 'eq', 'neq'];

/** One rule's entry of a tuning file, checked. */
export interface RuleOverride {
  /** The rule's name (or id) as written. */
  rule: string;
  /** Where the rule's key sits in the tuning file. */
  position: SourcePosition;
  disabled: boolean;
  reason?: string;
  owner?: string;
  /** YYYY-MM-DD: from the day after, the override no longer applies. */
  expires?: string;
  level?: SigmaLevel;
  /** Located nodes for the correlation's own keys, spliced into its document. */
  correlation?: { timespan?: SigmaNode; condition?: SigmaMapNode; groupBy?: SigmaNode };
}

export interface Tuning {
  file: string;
  overrides: RuleOverride[];
}

/** A rule a tuning file switched off, and why: for `rules list` and the scan summary. */
export interface DisabledRule {
  name: string;
  id: string;
  reason: string;
  owner?: string;
  expires?: string;
  /** Set when the rule is off because a rule it references is: that rule's name. */
  because?: string;
  location: string;
}

function scalarText(node: SigmaNode): string | undefined {
  if (node.kind !== 'scalar' || node.value === null) return undefined;
  return typeof node.value === 'string' ? node.value : String(node.value);
}

/** Whether an override dated `expires` no longer applies at `now` (it holds through its whole day, UTC, as a filter's does). */
export function overrideExpired(expires: string | undefined, now: Date): boolean {
  return expires !== undefined && isExpired(expires, now);
}

function unknownKey(entry: SigmaMapEntry, allowed: readonly string[], what: string): LocatedError {
  const close = closestName(allowed, entry.key);
  return located('TH_TUNING', `${what}: unknown key '${entry.key}'${close === undefined ? `; expected one of: ${allowed.join(', ')}` : ` (did you mean '${close}'?)`}`, formatPosition(entry.keyPosition));
}

function readCorrelation(node: SigmaNode, rule: string, errors: LocatedError[]): RuleOverride['correlation'] | undefined {
  if (node.kind !== 'map') {
    errors.push(located('TH_TUNING', `${rule}: 'correlation' must be a mapping of ${CORRELATION_KEYS.join(', ')}`, formatPosition(node.position)));
    return undefined;
  }
  const result: NonNullable<RuleOverride['correlation']> = {};
  const before = errors.length;
  for (const entry of node.entries) {
    if (entry.key === 'timespan') {
      const text = scalarText(entry.value);
      if (text === undefined || parseTimespan(text) === undefined) errors.push(located('TH_TUNING', `${rule}: 'correlation.timespan' must be a number and a unit (s, m, h, d, w), such as 30m or 1h`, formatPosition(entry.value.position)));
      else result.timespan = entry.value;
    } else if (entry.key === 'condition') {
      if (entry.value.kind !== 'map' || entry.value.entries.length === 0) {
        errors.push(located('TH_TUNING', `${rule}: 'correlation.condition' must be a mapping such as { gte: 12 }`, formatPosition(entry.value.position)));
        continue;
      }
      for (const item of entry.value.entries) {
        if (CONDITION_OPERATORS.includes(item.key)) {
          if (item.value.kind !== 'scalar' || typeof item.value.value !== 'number' || !Number.isFinite(item.value.value)) {
            errors.push(located('TH_TUNING', `${rule}: 'correlation.condition.${item.key}' must be a number`, formatPosition(item.value.position)));
          }
        } else if (item.key !== 'field' && item.key !== 'percentile') {
          errors.push(unknownKey(item, [...CONDITION_OPERATORS, 'field', 'percentile'], `${rule}: correlation.condition`));
        }
      }
      result.condition = entry.value;
    } else if (entry.key === 'group-by') {
      const values = entry.value.kind === 'seq' ? entry.value.items : [entry.value];
      if (values.some((item) => scalarText(item) === undefined || item.kind !== 'scalar' || typeof item.value !== 'string')) {
        errors.push(located('TH_TUNING', `${rule}: 'correlation.group-by' must be a field name or a list of field names`, formatPosition(entry.value.position)));
      } else result.groupBy = entry.value;
    } else {
      errors.push(unknownKey(entry, CORRELATION_KEYS, `${rule}: correlation`));
    }
  }
  return errors.length > before ? undefined : result;
}

function readOverride(entry: SigmaMapEntry, errors: LocatedError[]): RuleOverride | undefined {
  const rule = entry.key;
  const where = formatPosition(entry.keyPosition);
  if (entry.value.kind !== 'map') {
    errors.push(located('TH_TUNING', `${rule}: an override must be a mapping (${OVERRIDE_KEYS.join(', ')})`, where));
    return undefined;
  }
  const before = errors.length;
  const override: RuleOverride = { rule, position: entry.keyPosition, disabled: false };
  for (const item of entry.value.entries) {
    const at = formatPosition(item.value.position);
    switch (item.key) {
      case 'disabled':
        if (item.value.kind !== 'scalar' || typeof item.value.value !== 'boolean') errors.push(located('TH_TUNING', `${rule}: 'disabled' must be true or false`, at));
        else override.disabled = item.value.value;
        break;
      case 'reason':
      case 'owner': {
        const text = item.value.kind === 'scalar' && typeof item.value.value === 'string' ? item.value.value.trim() : undefined;
        if (text === undefined || text === '') errors.push(located('TH_TUNING', `${rule}: '${item.key}' must be a non-empty text`, at));
        else override[item.key] = text;
        break;
      }
      case 'expires': {
        const text = scalarText(item.value);
        if (text === undefined || !isCalendarDate(text)) errors.push(located('TH_TUNING', `${rule}: 'expires' must be a date YYYY-MM-DD`, at));
        else override.expires = text;
        break;
      }
      case 'level': {
        const text = scalarText(item.value);
        if (text === undefined || !(SIGMA_LEVELS as readonly string[]).includes(text)) errors.push(located('TH_TUNING', `${rule}: 'level' must be one of ${SIGMA_LEVELS.join(', ')}`, at));
        else override.level = text as SigmaLevel;
        break;
      }
      case 'correlation': {
        const correlation = readCorrelation(item.value, rule, errors);
        if (correlation !== undefined) override.correlation = correlation;
        break;
      }
      default:
        errors.push(unknownKey(item, OVERRIDE_KEYS, rule));
    }
  }
  if (override.disabled && override.reason === undefined && errors.length === before) {
    errors.push(located('TH_TUNING', `${rule}: 'disabled: true' needs a 'reason' (and ideally an 'owner' and an 'expires' date), so the next person knows why the rule is off`, where));
  }
  if (!override.disabled && override.level === undefined && override.correlation === undefined && errors.length === before) {
    errors.push(located('TH_TUNING', `${rule}: the override changes nothing: give 'disabled', 'level' or 'correlation'`, where));
  }
  return errors.length > before ? undefined : override;
}

/** A tuning file's text, checked. Never throws. */
export function parseTuningText(text: string, file: string): { tuning: Tuning; errors: LocatedError[] } {
  const tuning: Tuning = { file, overrides: [] };
  const parsed = parseYamlFile(text, file);
  const errors: LocatedError[] = parsed.errors.map((error) => ({ ...error, code: error.code === 'TH_RULE_LIMIT' ? error.code : 'TH_TUNING' }));
  const documents = parsed.documents.filter((document) => document.tree !== null);
  if (documents.length === 0) {
    if (errors.length === 0) errors.push(located('TH_TUNING', "the tuning file is empty: it needs a 'rules:' mapping", `${file}:1:1`));
    return { tuning, errors };
  }
  if (documents.length > 1) errors.push(located('TH_TUNING', 'a tuning file holds one YAML document; the others are ignored', formatPosition((documents[1] as (typeof documents)[number]).position)));
  const tree = (documents[0] as (typeof documents)[number]).tree as SigmaNode;
  if (tree.kind !== 'map') {
    errors.push(located('TH_TUNING', "a tuning file must be a mapping with a 'rules:' key", formatPosition(tree.position)));
    return { tuning, errors };
  }
  for (const entry of tree.entries) if (entry.key !== 'rules') errors.push(unknownKey(entry, ['rules'], 'tuning file'));
  const rules = mapEntry(tree, 'rules');
  if (rules === undefined) {
    errors.push(located('TH_TUNING', "a tuning file needs a 'rules:' mapping of rule names to overrides", formatPosition(tree.position)));
    return { tuning, errors };
  }
  if (rules.value.kind !== 'map') {
    if (!(rules.value.kind === 'scalar' && rules.value.value === null)) errors.push(located('TH_TUNING', "'rules' must be a mapping of rule names to overrides", formatPosition(rules.value.position)));
    return { tuning, errors };
  }
  // A rule named twice is a YAML error already (keys must be unique): reported by the parser.
  for (const entry of rules.value.entries) {
    const override = readOverride(entry, errors);
    if (override !== undefined) tuning.overrides.push(override);
  }
  return { tuning, errors };
}

/** Reads and checks a tuning file. Never throws. */
export async function readTuningFile(file: string): Promise<{ tuning: Tuning; errors: LocatedError[] }> {
  try {
    const read = await readTextFile(file, MAX_RULE_FILE_BYTES);
    if (!read.ok) {
      const error = read.reason === 'too-large' ? fileTooLarge(file, read.size, MAX_RULE_FILE_BYTES, 'the tuning file', 'TH_TUNING') : located('TH_TUNING', 'cannot read the tuning file: not a regular file', file);
      return { tuning: { file, overrides: [] }, errors: [error] };
    }
    return parseTuningText(read.text, file);
  } catch (error) {
    return { tuning: { file, overrides: [] }, errors: [located('TH_TUNING', `cannot read the tuning file: ${(error as Error).message}`, file)] };
  }
}

/** What applying a tuning file to a loaded set gives back. */
export interface TunedRules {
  rules: CompiledDetectionRule[];
  /** Correlation documents, disabled ones left out, overrides spliced in. */
  correlations: RawSigmaDocument[];
  disabled: DisabledRule[];
  /** Rule name or id -> the changes applied to it, in words (`level: low -> medium`). */
  changes: Map<string, string[]>;
  errors: LocatedError[];
  warnings: LocatedError[];
}

function documentText(document: RawSigmaDocument, key: string): string | undefined {
  const value = document.body[key];
  return typeof value === 'string' ? value : undefined;
}

function correlationSection(document: RawSigmaDocument): Readonly<Record<string, unknown>> | undefined {
  const section = document.body['correlation'];
  return section !== null && typeof section === 'object' && !Array.isArray(section) ? (section as Record<string, unknown>) : undefined;
}

function referencesOf(document: RawSigmaDocument): string[] {
  const rules = correlationSection(document)?.['rules'];
  if (typeof rules === 'string') return [rules];
  return Array.isArray(rules) ? rules.filter((item): item is string => typeof item === 'string') : [];
}

function describeCondition(condition: unknown): string {
  if (condition === null || typeof condition !== 'object') return String(condition);
  return Object.entries(condition as Record<string, unknown>)
    .filter(([key]) => CONDITION_OPERATORS.includes(key))
    .map(([key, value]) => `${key} ${String(value)}`)
    .join(' ');
}

function describeList(value: unknown): string {
  return Array.isArray(value) ? `[${value.map(String).join(', ')}]` : String(value);
}

function withEntry(map: SigmaMapNode, key: string, value: SigmaNode, keyPosition: SourcePosition): SigmaMapNode {
  const entries = map.entries.filter((entry) => entry.key !== key);
  entries.push({ key, keyPosition, value });
  return { ...map, entries };
}

/**
 * The correlation document with its overrides spliced into the located tree (the tuned nodes
 * keep the tuning file's positions); the condition is merged: a tuned `{gte: 12}` replaces the
 * comparisons and keeps the rule's `field`.
 */
function tuneCorrelation(document: RawSigmaDocument, override: RuleOverride, changes: string[]): RawSigmaDocument {
  const tree = document.tree;
  if (tree === undefined) return document;
  const sectionEntry = mapEntry(tree, 'correlation');
  if (sectionEntry === undefined || sectionEntry.value.kind !== 'map') return document;
  let section: SigmaMapNode = sectionEntry.value;
  const plain = correlationSection(document) ?? {};
  const tuned = override.correlation ?? {};
  if (tuned.timespan !== undefined) {
    section = withEntry(section, 'timespan', tuned.timespan, override.position);
    if (String(plain['timespan']) !== scalarText(tuned.timespan)) changes.push(`timespan: ${String(plain['timespan'])} -> ${scalarText(tuned.timespan) ?? ''}`);
  }
  if (tuned.condition !== undefined) {
    const old = mapEntry(section, 'condition');
    const tunedKeys = new Set(tuned.condition.entries.map((entry) => entry.key));
    const replacesComparisons = tuned.condition.entries.some((entry) => CONDITION_OPERATORS.includes(entry.key));
    const kept = old !== undefined && old.value.kind === 'map' ? old.value.entries.filter((entry) => !tunedKeys.has(entry.key) && !(replacesComparisons && CONDITION_OPERATORS.includes(entry.key))) : [];
    const merged: SigmaMapNode = { kind: 'map', entries: [...kept, ...tuned.condition.entries], position: tuned.condition.position };
    section = withEntry(section, 'condition', merged, override.position);
    const after = Object.fromEntries(tuned.condition.entries.map((entry) => [entry.key, scalarText(entry.value)]));
    changes.push(`condition: ${describeCondition(plain['condition'])} -> ${describeCondition(after)}`);
  }
  if (tuned.groupBy !== undefined) {
    section = withEntry(section, 'group-by', tuned.groupBy, override.position);
    const after = tuned.groupBy.kind === 'seq' ? tuned.groupBy.items.map((item) => scalarText(item)) : scalarText(tuned.groupBy);
    changes.push(`group-by: ${describeList(plain['group-by'])} -> ${describeList(after)}`);
  }
  let top = withEntry(tree, 'correlation', section, sectionEntry.keyPosition);
  if (override.level !== undefined) {
    top = withEntry(top, 'level', { kind: 'scalar', value: override.level, position: override.position }, override.position);
    const before = documentText(document, 'level') ?? 'medium';
    if (before !== override.level) changes.push(`level: ${before} -> ${override.level}`);
  }
  return { ...document, tree: top };
}

/**
 * Applies a tuning file to the loaded rules: before correlations are parsed and before the
 * index is built. Unknown names are errors with a did-you-mean; expired overrides and rules
 * turned off through what they reference are warnings.
 */
export function applyTuning(tuning: Tuning, rules: readonly CompiledDetectionRule[], correlations: readonly RawSigmaDocument[], now: Date): TunedRules {
  const errors: LocatedError[] = [];
  const warnings: LocatedError[] = [];
  const changes = new Map<string, string[]>();
  const disabled: DisabledRule[] = [];
  const ruleByKey = new Map<string, CompiledDetectionRule>();
  for (const rule of rules) {
    ruleByKey.set(rule.id, rule);
    if (rule.name !== undefined) ruleByKey.set(rule.name, rule);
  }
  const correlationByKey = new Map<string, RawSigmaDocument>();
  for (const document of correlations) {
    for (const key of [documentText(document, 'id'), documentText(document, 'name')]) if (key !== undefined) correlationByKey.set(key, document);
  }
  const names = [...rules.map((rule) => rule.name ?? rule.id), ...correlations.map((document) => documentText(document, 'name') ?? documentText(document, 'id') ?? '')].filter((name) => name !== '');

  const off = new Set<string>(); // ids of disabled rules and correlations
  const keyOf = (rule: { id: string; name?: string | undefined }): string => rule.name ?? rule.id;
  const tunedRules = new Map<string, CompiledDetectionRule>();
  const tunedCorrelations = new Map<RawSigmaDocument, RawSigmaDocument>();

  for (const override of tuning.overrides) {
    const where = formatPosition(override.position);
    const rule = ruleByKey.get(override.rule);
    const correlation = rule === undefined ? correlationByKey.get(override.rule) : undefined;
    if (rule === undefined && correlation === undefined) {
      const close = closestName(names, override.rule);
      errors.push(located('TH_TUNING', `no loaded rule is named ${override.rule}${close === undefined ? '' : ` (did you mean ${close}?)`}; \`trailhound rules list\` shows the names`, where));
      continue;
    }
    if (overrideExpired(override.expires, now)) {
      const audit = [override.owner === undefined ? '' : `owner: ${override.owner}`, override.reason === undefined ? '' : `reason: ${override.reason}`].filter(Boolean).join('; ');
      warnings.push(located('TH_TUNING', `the tuning of ${override.rule} expired on ${override.expires ?? '?'}${audit === '' ? '' : ` (${audit})`} and no longer applies: renew its 'expires' date or remove it`, where));
      continue;
    }
    if (rule !== undefined) {
      if (override.correlation !== undefined) {
        errors.push(located('TH_TUNING', `${override.rule} is a detection rule: 'correlation' overrides apply to correlation rules only`, where));
        continue;
      }
      if (override.disabled) {
        off.add(rule.id);
        disabled.push({ name: keyOf(rule), id: rule.id, reason: override.reason ?? '', ...(override.owner === undefined ? {} : { owner: override.owner }), ...(override.expires === undefined ? {} : { expires: override.expires }), location: where });
        continue;
      }
      if (override.level !== undefined && override.level !== rule.level) {
        const applied = [`level: ${rule.level} -> ${override.level}`];
        changes.set(keyOf(rule), applied);
        tunedRules.set(rule.id, { ...rule, level: override.level, tuning: applied });
      }
      continue;
    }
    const document = correlation as RawSigmaDocument;
    const id = documentText(document, 'id') ?? '';
    const name = documentText(document, 'name') ?? id;
    if (override.disabled) {
      off.add(id);
      disabled.push({ name, id, reason: override.reason ?? '', ...(override.owner === undefined ? {} : { owner: override.owner }), ...(override.expires === undefined ? {} : { expires: override.expires }), location: where });
      continue;
    }
    const applied: string[] = [];
    tunedCorrelations.set(document, tuneCorrelation(document, override, applied));
    if (applied.length > 0) changes.set(name, applied);
  }

  // Correlations that reference a disabled rule (directly or through another correlation)
  // cannot run: turn them off too, and say so where the rule was disabled.
  const keysOfOff = (): Set<string> => {
    const keys = new Set<string>();
    for (const rule of rules) if (off.has(rule.id)) for (const key of [rule.id, rule.name]) if (key !== undefined) keys.add(key);
    for (const document of correlations) {
      const id = documentText(document, 'id');
      if (id !== undefined && off.has(id)) for (const key of [id, documentText(document, 'name')]) if (key !== undefined) keys.add(key);
    }
    return keys;
  };
  for (let changed = true; changed; ) {
    changed = false;
    const offKeys = keysOfOff();
    for (const document of correlations) {
      const id = documentText(document, 'id') ?? '';
      if (off.has(id)) continue;
      const because = referencesOf(document).find((reference) => offKeys.has(reference));
      if (because === undefined) continue;
      off.add(id);
      changed = true;
      const name = documentText(document, 'name') ?? id;
      const cause = disabled.find((item) => item.name === because || item.id === because);
      disabled.push({ name, id, reason: `it references ${because}, which is disabled`, because, location: cause?.location ?? formatPosition(document.position) });
      warnings.push(located('TH_TUNING', `disabling ${because} also turns off the correlation ${name}, which references it; disable ${name} explicitly, or allowlist with a filter instead`, cause?.location ?? formatPosition(document.position)));
    }
  }

  return {
    rules: rules.filter((rule) => !off.has(rule.id)).map((rule) => tunedRules.get(rule.id) ?? rule),
    correlations: correlations.filter((document) => !off.has(documentText(document, 'id') ?? '')).map((document) => tunedCorrelations.get(document) ?? document),
    disabled,
    changes,
    errors,
    warnings,
  };
}
