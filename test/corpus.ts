import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * ../shared/corpus beside the clone: real public samples that must not be copied into the
 * repository. CI has it; a user's clone may not, so tests that read it skip cleanly.
 */
export const CORPUS_DIR = fileURLToPath(new URL('../../shared/corpus/', import.meta.url));

/** `{ skip: reason }` when the corpus is absent, for node:test options. */
export function corpusSkip(): { skip: string | false } {
  return { skip: existsSync(CORPUS_DIR) ? false : 'shared corpus absent (../shared/corpus)' };
}

export function corpusPath(relative: string): string {
  return `${CORPUS_DIR}${relative}`;
}
