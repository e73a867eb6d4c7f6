import type { ESLint, Rule } from 'eslint';

export const LAYERS: readonly (readonly string[])[];
export function roomOf(file: string, srcDir: string): string | undefined;
export function layerViolation(from: string, to: string): string | undefined;
export const importLayersRule: Rule.RuleModule;
export const layersPlugin: ESLint.Plugin;
