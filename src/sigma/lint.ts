/**
 * Warnings about rules that are valid Sigma but likely not what their author meant; `rules
 * lint` prints them (code TH_RULE_SUSPECT), they never stop a rule from loading.
 *
 * - `field|base64offset: value` without `|contains` (or `|startswith` / `|endswith`): the
 *   specification's modifiers compare the whole field with each of the three offset encodings
 *   of the value, since nothing says "anywhere in". The three encodings are only stable in the
 *   middle of a longer encoded text, so rules almost always mean `|base64offset|contains`
 *   (sigma-modifiers-appendix.md shows it only that way).
 */

import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import { formatPosition, mapEntry, parseYamlFile } from './parse.ts';
import type { SigmaMapNode, SigmaNode } from './types.ts';

/** The TH_RULE_SUSPECT warnings of every detection (and filter) section in one rule file's text. */
export function suspectRuleWarnings(text: string, file: string): LocatedError[] {
  const warnings: LocatedError[] = [];
  for (const document of parseYamlFile(text, file).documents) {
    if (document.tree?.kind !== 'map') continue;
    for (const section of ['detection', 'filter']) {
      const entry = mapEntry(document.tree, section);
      if (entry?.value.kind === 'map') checkSection(entry.value, warnings);
    }
  }
  return warnings;
}

function checkSection(section: SigmaMapNode, warnings: LocatedError[]): void {
  for (const entry of section.entries) {
    if (entry.key === 'condition' || entry.key === 'timeframe') continue;
    checkIdentifier(entry.value, warnings);
  }
}

function checkIdentifier(node: SigmaNode, warnings: LocatedError[]): void {
  if (node.kind === 'seq') {
    for (const item of node.items) checkIdentifier(item, warnings);
    return;
  }
  if (node.kind !== 'map') return;
  for (const entry of node.entries) {
    const modifiers = entry.key.split('|').slice(1).map((modifier) => modifier.toLowerCase());
    if (!modifiers.includes('base64offset')) continue;
    if (modifiers.some((modifier) => modifier === 'contains' || modifier === 'startswith' || modifier === 'endswith')) continue;
    const field = entry.key.split('|')[0] ?? '';
    warnings.push(located('TH_RULE_SUSPECT', `'${entry.key}' compares the whole value of ${field === '' ? 'each string' : `'${field}'`} with the base64 offset encodings of its value, as the specification reads; the encodings are only stable inside a longer text, so this is almost always meant as '${[field, ...entry.key.split('|').slice(1), 'contains'].join('|')}'`, formatPosition(entry.keyPosition)));
  }
}
