/** The Sigma language: what the engine, the CLI and the correlation/filter compilers use. */
export { loadRulePaths, loadRuleText } from './load.ts';
export { compileDetectionSection } from './compile.ts';
export type { CompiledSearch, DetectionSectionOptions } from './compile.ts';
export { parsePlaceholderFile } from './placeholders.ts';
export { admitsRecord } from './required-values.ts';
export { formatPosition, parseYamlFile, positionWithin } from './parse.ts';
export { readDocumentMeta, readLogSource, readStringList } from './meta.ts';
export { compileFieldPath, someScalar, someTerminal } from './field-path.ts';
