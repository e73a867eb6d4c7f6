/** Types of bin/compiled.js (plain JavaScript: it runs before any TypeScript can). */
export function sourcesKey(root: string): string;
export function contentKey(root: string): string;
export function compiledEntry(root: string, env?: NodeJS.ProcessEnv): URL | undefined;
