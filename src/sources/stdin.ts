/** `-`: the standard input as one unit (read once; gzip or not is sniffed like any input). */
import type { Readable } from 'node:stream';
import type { Source } from './source.ts';
import type { InputUnit } from '../core/input-unit.ts';

export const STDIN_PATH = '-';

/** The unit for standard input (or for the given stream, in tests). */
export function stdinUnit(stream: Readable = process.stdin): InputUnit {
  return { uri: STDIN_PATH, open: () => stream };
}

export const stdinSource: Source = {
  name: 'stdin',
  claims: (path) => path === STDIN_PATH,
  async *expand() {
    yield stdinUnit();
  },
};
