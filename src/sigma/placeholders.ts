/**
 * `|expand` placeholders: the `--vars` file, and the substitution of `%name%` in a value by the
 * list of values the file gives (OR-linked; several placeholders in one value give every
 * combination). Each value from the file is itself a Sigma string: `*`, `?` and `\` escapes
 * work in it as in a rule. A name the file does not define is an error (the specification says
 * a tool that cannot resolve a placeholder must reject the rule).
 */
import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import { formatPosition, parseYamlFile } from './parse.ts';
import { SigmaProblem } from './problem.ts';
import type { PlaceholderValues } from './types.ts';
import { normalizeTokens, parseSigmaString } from './wildcard.ts';
import type { PatternToken } from './wildcard.ts';

/** At most this many combinations from one value with placeholders. */
export const MAX_PLACEHOLDER_COMBINATIONS = 10_000;

/**
 * Parse a `--vars` file: a YAML mapping from placeholder name (without the `%` signs; they are
 * tolerated and stripped) to a string or a list of strings. Numbers and booleans are taken as
 * their string form. Errors are TH_VARS with `file:line:col`.
 */
export function parsePlaceholderFile(text: string, file: string): { vars: PlaceholderValues; errors: LocatedError[] } {
  const vars = new Map<string, readonly string[]>();
  const parsed = parseYamlFile(text, file);
  // A YAML error is the vars file's own; a limit (TH_RULE_LIMIT) keeps its code.
  const errors: LocatedError[] = parsed.errors.map((error) => (error.code === 'TH_RULE_LIMIT' ? error : { ...error, code: 'TH_VARS' }));
  const documents = parsed.documents.filter((document) => document.tree !== null);
  if (documents.length > 1) {
    const second = documents[1];
    if (second) errors.push(located('TH_VARS', 'a --vars file holds one YAML mapping, not several documents', formatPosition(second.position)));
  }
  const tree = documents[0]?.tree;
  if (!tree) return { vars, errors };
  if (tree.kind !== 'map') {
    errors.push(located('TH_VARS', 'a --vars file is a YAML mapping from placeholder name to a value or a list of values', formatPosition(tree.position)));
    return { vars, errors };
  }
  for (const entry of tree.entries) {
    const name = entry.key.replace(/^%(.*)%$/, '$1');
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) {
      errors.push(located('TH_VARS', `'${entry.key}' is not a placeholder name (letters, digits, '_', '-', '.')`, formatPosition(entry.keyPosition)));
      continue;
    }
    if (vars.has(name)) {
      errors.push(located('TH_VARS', `placeholder '${name}' is defined twice`, formatPosition(entry.keyPosition)));
      continue;
    }
    const items = entry.value.kind === 'seq' ? entry.value.items : [entry.value];
    const values: string[] = [];
    let ok = true;
    for (const item of items) {
      if (item.kind !== 'scalar' || item.value === null) {
        errors.push(located('TH_VARS', `values of placeholder '${name}' must be strings`, formatPosition(item.position)));
        ok = false;
        continue;
      }
      values.push(String(item.value));
    }
    if (ok) vars.set(name, values);
  }
  return { vars, errors };
}

/**
 * Replace the placeholder tokens of a pattern by the values of `vars`: one token list per
 * combination. Throws a TH_RULE_PLACEHOLDER problem naming the first missing placeholder.
 */
export function expandPlaceholders(tokens: readonly PatternToken[], vars: PlaceholderValues | undefined): PatternToken[][] {
  let results: PatternToken[][] = [[]];
  for (const token of tokens) {
    if (token.kind !== 'placeholder') {
      for (const prefix of results) prefix.push(token);
      continue;
    }
    const values = vars?.get(token.name);
    if (values === undefined) {
      throw new SigmaProblem(
        'TH_RULE_PLACEHOLDER',
        vars === undefined
          ? `placeholder %${token.name}% needs a value: pass a --vars file that defines '${token.name}'`
          : `placeholder %${token.name}% is not defined in the --vars file: add '${token.name}' to it`,
      );
    }
    if (results.length * values.length > MAX_PLACEHOLDER_COMBINATIONS) {
      throw new SigmaProblem('TH_RULE_VALUE', `placeholders give more than ${MAX_PLACEHOLDER_COMBINATIONS} combinations`);
    }
    const next: PatternToken[][] = [];
    for (const prefix of results) for (const value of values) next.push([...prefix, ...parseSigmaString(value)]);
    results = next;
  }
  return results.map((list) => normalizeTokens(list));
}
