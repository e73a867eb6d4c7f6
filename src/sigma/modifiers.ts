/**
 * Value modifiers (sigma-appendix-modifiers.md): the names, and the check of a chain such as
 * `CommandLine|windash|contains|all` into a plan the detection-item compiler follows.
 *
 * What combines with what:
 * - `exists` stands alone, with `true` or `false`.
 * - `re` with its sub-modifiers `i`, `m`, `s` (also spelled `ignorecase`, `multiline`, `dotall`,
 *   as pySigma does), `all`, `neq`, `cased` (a no-op: `re` is case-sensitive already).
 * - `cidr` with `all`, `neq`, `expand`.
 * - `lt`, `lte`, `gt`, `gte` (one of them) with one time modifier and `all`.
 * - a time modifier (`minute`, `hour`, `day`, `week`, `month`, `year`) alone compares for
 *   equality, and takes `all`, `neq`.
 * - `fieldref` with `contains`/`startswith`/`endswith`, `cased`, `neq`, `all`.
 * - string matching (the default) with one of `contains`/`startswith`/`endswith`, the encodings
 *   (`base64` or `base64offset`, `utf16le`/`wide`/`utf16be`/`utf16`, `windash`), `cased`,
 *   `neq`, `all`, `expand`. Transformations apply in the order written; `base64` after
 *   `contains` would encode the wildcards and is rejected.
 */
import { TIME_PARTS } from './time-parts.ts';
import type { TimePart } from './time-parts.ts';

export type ShapeModifier = 'contains' | 'startswith' | 'endswith';
export type TransformModifier = ShapeModifier | 'windash' | 'base64' | 'base64offset' | 'utf16le' | 'utf16be' | 'utf16' | 'wide';
export type CompareModifier = 'lt' | 'lte' | 'gt' | 'gte';

const SHAPES: readonly string[] = ['contains', 'startswith', 'endswith'];
const BASE64: readonly string[] = ['base64', 'base64offset'];
const UTF16: readonly string[] = ['utf16le', 'utf16be', 'utf16', 'wide'];
const COMPARES: readonly string[] = ['lt', 'lte', 'gt', 'gte'];
const RE_FLAGS: Readonly<Record<string, 'i' | 'm' | 's'>> = { i: 'i', ignorecase: 'i', m: 'm', multiline: 'm', s: 's', dotall: 's' };

/** Every modifier name this engine knows. */
export const KNOWN_MODIFIERS: ReadonlySet<string> = new Set([
  'all', 'startswith', 'endswith', 'contains', 'exists', 'cased', 'neq',
  're', ...Object.keys(RE_FLAGS),
  'windash', ...BASE64, ...UTF16,
  ...COMPARES, ...TIME_PARTS,
  'cidr', 'fieldref', 'expand',
]);

export type ValueKind = 'string' | 're' | 'cidr' | 'numeric' | 'time' | 'fieldref' | 'exists';

export interface ModifierPlan {
  readonly kind: ValueKind;
  readonly modifiers: readonly string[];
  readonly all: boolean;
  readonly cased: boolean;
  readonly neq: boolean;
  readonly expand: boolean;
  /** String transformations and the match shape, in rule order. */
  readonly transforms: readonly TransformModifier[];
  readonly shape: ShapeModifier | undefined;
  /** JavaScript RegExp flags from `i`, `m`, `s`. */
  readonly reFlags: string;
  readonly compare: CompareModifier | undefined;
  readonly timePart: TimePart | undefined;
  /** No modifier at all but `expand`/`all`: plain case-insensitive equality (or wildcards). */
  readonly plain: boolean;
}

export interface FieldKey {
  readonly field: string;
  readonly modifiers: readonly string[];
}

/** Split `field|mod1|mod2` into the field name and its modifiers. */
export function parseFieldKey(key: string): FieldKey {
  const parts = key.split('|');
  return { field: parts[0] ?? '', modifiers: parts.slice(1) };
}

/** Check a modifier chain; returns the plan or an error message (TH_RULE_MODIFIER). */
export function planModifiers(modifiers: readonly string[], keyword: boolean): ModifierPlan | string {
  const seen = new Set<string>();
  for (const name of modifiers) {
    if (name === '') return "empty modifier: remove the extra '|'";
    if (!KNOWN_MODIFIERS.has(name)) {
      const lower = name.toLowerCase();
      if (KNOWN_MODIFIERS.has(lower)) return `unknown modifier '${name}': modifiers are lower case, write '${lower}'`;
      return `unknown modifier '${name}'`;
    }
    if (seen.has(name)) return `modifier '${name}' is given twice`;
    seen.add(name);
  }
  const has = (name: string): boolean => seen.has(name);
  const present = (group: readonly string[]): string[] => modifiers.filter((name) => group.includes(name));
  const shapes = present(SHAPES);
  const base64s = present(BASE64);
  const utf16s = present(UTF16);
  const compares = present(COMPARES);
  const times = present(TIME_PARTS);
  const flags = present(Object.keys(RE_FLAGS));
  if (shapes.length > 1) return `'${shapes[0]}' and '${shapes[1]}' cannot be combined`;
  if (base64s.length > 1) return `'${base64s[0]}' and '${base64s[1]}' cannot be combined`;
  if (utf16s.length > 1) return `'${utf16s[0]}' and '${utf16s[1]}' cannot be combined`;
  if (compares.length > 1) return `'${compares[0]}' and '${compares[1]}' cannot be combined`;
  if (times.length > 1) return `'${times[0]}' and '${times[1]}' cannot be combined`;

  const types: string[] = [];
  if (has('exists')) types.push('exists');
  if (has('re')) types.push('re');
  if (has('cidr')) types.push('cidr');
  if (has('fieldref')) types.push('fieldref');
  if (compares.length > 0) types.push(compares[0] as string);
  else if (times.length > 0) types.push(times[0] as string);
  if (types.length > 1) return `'${types[0]}' and '${types[1]}' cannot be combined`;

  let kind: ValueKind = 'string';
  let allowed: readonly string[];
  if (has('exists')) {
    kind = 'exists';
    allowed = ['exists'];
  } else if (has('re')) {
    kind = 're';
    allowed = ['re', ...Object.keys(RE_FLAGS), 'all', 'neq', 'cased'];
  } else if (has('cidr')) {
    kind = 'cidr';
    allowed = ['cidr', 'all', 'neq', 'expand'];
  } else if (has('fieldref')) {
    kind = 'fieldref';
    allowed = ['fieldref', ...SHAPES, 'cased', 'neq', 'all'];
  } else if (compares.length > 0) {
    kind = 'numeric';
    allowed = [...COMPARES, ...TIME_PARTS, 'all'];
  } else if (times.length > 0) {
    kind = 'time';
    allowed = [...TIME_PARTS, 'all', 'neq'];
  } else {
    allowed = [...SHAPES, 'windash', ...BASE64, ...UTF16, 'cased', 'neq', 'all', 'expand'];
  }
  if (flags.length > 0 && kind !== 're') return `'${flags[0]}' is a sub-modifier of 're' and needs it`;
  for (const name of modifiers) {
    if (!allowed.includes(name)) {
      const head = types[0] ?? name;
      return head === name ? `'${name}' cannot be used here` : `'${head}' cannot be combined with '${name}'`;
    }
  }
  if (keyword && kind !== 'string' && kind !== 're') return `'${types[0] ?? kind}' needs a field name: a keyword search cannot use it`;
  if (keyword && has('neq')) return "'neq' needs a field name: a keyword search cannot use it";

  const transforms: TransformModifier[] = [];
  let shape: ShapeModifier | undefined;
  for (const name of modifiers) {
    if (SHAPES.includes(name)) {
      shape = name as ShapeModifier;
      if (kind === 'string') transforms.push(shape);
    } else if (name === 'windash' || BASE64.includes(name) || UTF16.includes(name)) {
      if (shape !== undefined && BASE64.includes(name)) {
        return `'${name}' after '${shape}' would encode the wildcards: write '|${name}|${shape}'`;
      }
      transforms.push(name as TransformModifier);
    }
  }
  let reFlags = '';
  for (const flag of flags) {
    const js = RE_FLAGS[flag] as string;
    if (!reFlags.includes(js)) reFlags += js;
  }
  return {
    kind,
    modifiers,
    all: has('all'),
    cased: has('cased'),
    neq: has('neq'),
    expand: has('expand'),
    transforms,
    shape,
    reFlags,
    compare: compares[0] as CompareModifier | undefined,
    timePart: times[0] as TimePart | undefined,
    plain: modifiers.every((name) => name === 'expand' || name === 'all'),
  };
}
