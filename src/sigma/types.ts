import type { LocatedError } from '../core/errors.ts';
import type { LogRecord } from '../core/envelope.ts';
import type { SigmaLevel } from '../core/levels.ts';
import type { CidrNetwork } from './cidr.ts';

export interface SigmaLogSource {
  product?: string;
  service?: string;
  category?: string;
}

/** Where a document or node was found: 1-based line and column. */
export interface SourcePosition {
  file: string;
  line: number;
  col: number;
}

/** Fields every Sigma document kind shares (detection, correlation, filter). */
export interface SigmaDocumentMeta {
  id: string;
  name?: string;
  title: string;
  description?: string;
  status?: string;
  level: SigmaLevel;
  tags: string[];
  falsepositives: string[];
  references: string[];
  author?: string;
  date?: string;
  position: SourcePosition;
  /** Set by a tuning file (src/pack/tuning.ts): the overrides applied, in words (`level: low -> medium`). */
  tuning?: readonly string[];
}

/** Placeholder values for `|expand`, loaded from the --vars file: name (without %) to values. */
export type PlaceholderValues = ReadonlyMap<string, readonly string[]>;

export interface CompileOptions {
  vars?: PlaceholderValues;
  /**
   * Regular expressions are compiled at their first test instead of at load: for texts another
   * load already compiled and reported (a scan worker's), so that the worker starts sooner.
   */
  deferRegex?: boolean;
}

/**
 * A literal some string value of a field must contain (src/sigma/required-substrings.ts): `text`
 * exactly when `caseSensitive`, else `text` is lowercase ASCII, searched case-insensitively.
 */
export interface RequiredLiteral {
  readonly text: string;
  readonly caseSensitive: boolean;
}

/** A detection rule compiled once into closures. */
export interface CompiledDetectionRule extends SigmaDocumentMeta {
  kind: 'detection';
  logsource: SigmaLogSource;
  /** True when the record satisfies the rule's condition. Never throws. */
  match: (record: LogRecord) => boolean;
  /**
   * For fields whose value every matching record must equal, case-insensitively, one of the
   * listed values: the field path to the lowercased values. Empty when the condition promises
   * nothing (the rule is then tried on every record of its log source). The engine's index
   * uses these to pick candidate rules per record.
   */
  requiredValues: ReadonlyMap<string, ReadonlySet<string>>;
  /**
   * For fields of which some string value every matching record must contain one of the listed
   * literals: the field path to the literals. A number or boolean reached by the field is not
   * covered (the rule may match it through its string form): treat it as a possible match.
   * Empty when the condition promises nothing. See src/sigma/required-substrings.ts for the
   * exact meaning (case folding) and the derivation; the engine's raw pre-filter uses it.
   */
  requiredSubstrings: ReadonlyMap<string, readonly RequiredLiteral[]>;
  /**
   * For fields of which some string value every matching record must hold inside one of the
   * listed networks (`|cidr` selections the condition requires): the field path to the
   * networks. Empty when the condition promises nothing. See src/sigma/required-cidrs.ts for
   * the derivation; the flow-log pre-filter uses it.
   */
  requiredCidrs: ReadonlyMap<string, readonly CidrNetwork[]>;
  /** Sigma `fields`, if any: fields to surface in the alert. */
  fields: string[];
  /** The parsed YAML document, for tooling (lint, navigator) and for correlation documents. */
  source: Readonly<Record<string, unknown>>;
}

/** Result of loading one or many rule files: everything that loaded, and a located error for each thing that did not. */
export interface RuleLoadResult {
  rules: CompiledDetectionRule[];
  /** Correlation and filter documents, parsed but not compiled here (src/sigma/correlation.ts, filter.ts). */
  otherDocuments: RawSigmaDocument[];
  errors: LocatedError[];
}

export interface RawSigmaDocument {
  kind: 'correlation' | 'filter';
  body: Readonly<Record<string, unknown>>;
  position: SourcePosition;
  /**
   * The same document as a located YAML tree, so that its compiler can report `file:line:col`
   * of the offending node and reuse `compileDetectionSection` (src/sigma/compile.ts) on a
   * filter's `filter:` section. Always set by the loader.
   */
  tree?: SigmaMapNode;
}

/**
 * A YAML node with its position, as the Sigma compilers see it (built by src/sigma/parse.ts).
 * Scalars keep their YAML 1.2 core-schema type: `5` is a number, `'5'` a string, `true` a boolean.
 */
export type SigmaNode = SigmaMapNode | SigmaSeqNode | SigmaScalarNode;

export interface SigmaMapEntry {
  key: string;
  keyPosition: SourcePosition;
  value: SigmaNode;
}

export interface SigmaMapNode {
  kind: 'map';
  entries: SigmaMapEntry[];
  position: SourcePosition;
}

export interface SigmaSeqNode {
  kind: 'seq';
  items: SigmaNode[];
  position: SourcePosition;
}

export interface SigmaScalarNode {
  kind: 'scalar';
  value: string | number | boolean | null;
  position: SourcePosition;
  /**
   * Where the scalar's first character of content sits when columns within `value` map one to
   * one onto the source (a single-line scalar without escapes); lets a condition error point at
   * the offending word. Absent otherwise.
   */
  contentStart?: SourcePosition;
}
