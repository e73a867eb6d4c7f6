#!/usr/bin/env node
// Starts from the compiled JavaScript in dist/ (scripts/build.mjs, which `npm ci` and `npm
// install` run) when it was built from the sources as they are now; otherwise, or with
// TRAILHOUND_FROM_SOURCES=1, runs the TypeScript sources through tsx (development: an edited
// source is never run stale). bin/compiled.js decides.
import { fileURLToPath } from 'node:url';
import { compiledEntry } from './compiled.js';

const entry = compiledEntry(fileURLToPath(new URL('..', import.meta.url)));
let main;
if (entry !== undefined) {
  ({ main } = await import(entry.href));
} else {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import('../src/cli/main.ts'));
}
process.exitCode = await main(process.argv.slice(2));
