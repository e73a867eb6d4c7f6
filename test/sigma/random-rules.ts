import assert from 'node:assert/strict';
import type { LogRecord } from '../../src/core/envelope.ts';
import { loadRuleText } from '../../src/sigma/load.ts';
import type { CompiledDetectionRule } from '../../src/sigma/types.ts';
import type { RulePromise } from './conformance-soundness.ts';
import { ruleText } from './helpers.ts';

/** How the random rules and records of one soundness fuzzer are drawn. */
export interface RandomRuleShape {
  next: () => number;
  /** One `field|modifiers: value(s)` line (or block) at this indentation. */
  entry: (indent: string) => string;
  /** Values of keyword selections (a list of plain strings). */
  keywords: readonly string[];
  /** Record fields; `a.b` is drawn nested, as an object, a list of objects, or a dotted key. */
  fields: readonly string[];
  fieldValue: () => unknown;
  /** Chance that a record leaves a field out. */
  missing: number;
}

export function pickFrom(next: () => number): <T>(items: readonly T[]) => T {
  return <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)] as T;
}

/** A detection of three selections (keywords, a list of maps, or one map) and a random condition over them. */
function randomDetection(shape: RandomRuleShape): string {
  const { next, entry } = shape;
  const pick = pickFrom(next);
  const selection = (name: string): string => {
    const roll = next();
    if (roll < 0.12) return `${name}:\n  - ${JSON.stringify(pick(shape.keywords))}`;
    if (roll < 0.32) {
      return `${name}:\n${[0, 1].map(() => {
        const lines = Array.from({ length: 1 + Math.floor(next() * 2) }, () => entry('    '));
        return `  -${lines.join('\n').slice(3)}`;
      }).join('\n')}`;
    }
    const keys = new Set<string>();
    const lines: string[] = [];
    for (let i = 0; i < 1 + Math.floor(next() * 3); i++) {
      const line = entry('  ');
      const key = line.split(':')[0] as string;
      if (keys.has(key)) continue;
      keys.add(key);
      lines.push(line);
    }
    return `${name}:\n${lines.join('\n')}`;
  };
  const expression = (depth: number): string => {
    const roll = next();
    if (depth > 2 || roll < 0.32) return pick(['s0', 's1', 's2', '1 of s*', 'all of them', '2 of s*', '2 of them', '3 of s*']);
    if (roll < 0.45) return `not ${expression(depth + 1)}`;
    if (roll < 0.75) return `(${expression(depth + 1)} and ${expression(depth + 1)})`;
    return `(${expression(depth + 1)} or ${expression(depth + 1)})`;
  };
  return `${['s0', 's1', 's2'].map(selection).join('\n')}\ncondition: ${expression(0)}`;
}

function randomRecord(shape: RandomRuleShape): LogRecord {
  const { next, fieldValue } = shape;
  const out: LogRecord = {};
  for (const field of shape.fields) {
    if (next() < shape.missing) continue;
    if (field === 'a.b') {
      const roll = next();
      out['a'] = roll < 0.4 ? { b: fieldValue() } : roll < 0.7 ? [{ b: fieldValue() }, { b: fieldValue() }] : { c: 1 };
      if (next() < 0.1) out['a.b'] = fieldValue();
    } else {
      out[field] = fieldValue();
    }
  }
  return out;
}

/**
 * Random rules, each over random records: whenever a rule matches, the record keeps the rule's
 * promise (asserted here). Returns how many rules compiled and promised something, and how
 * many records matched and were excluded by the promise.
 */
export function randomRuleSoundness(shape: RandomRuleShape, promise: RulePromise, rulesToDraw: number, recordsPerRule: number): { rules: number; constrained: number; matched: number; excluded: number } {
  let rules = 0;
  let constrained = 0;
  let matched = 0;
  let excluded = 0;
  for (let i = 0; i < rulesToDraw; i++) {
    const detection = randomDetection(shape);
    const loaded = loadRuleText(ruleText(detection), 'fuzz.yml');
    // A YAML duplicate key (the same field twice in one map) does not load: draw again.
    if (loaded.rules.length === 0) continue;
    const rule = loaded.rules[0] as CompiledDetectionRule;
    rules++;
    if (promise.constrains(rule)) constrained++;
    for (let j = 0; j < recordsPerRule; j++) {
      const candidate = randomRecord(shape);
      const admitted = promise.admits(rule, candidate);
      if (!admitted) excluded++;
      if (rule.match(candidate)) {
        matched++;
        assert.ok(admitted, `rule\n${detection}\nmatches ${JSON.stringify(candidate)} but requires ${promise.describe(rule)}`);
      }
    }
  }
  return { rules, constrained, matched, excluded };
}
