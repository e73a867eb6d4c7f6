import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * The CloudTrail records of the corpus that come one per line or wrapped as Panther test
 * events: Panther's rule tests, OTRF and Elastic's samples. Empty when the corpus is absent.
 */
export function corpusCloudTrailRecords(): Array<Record<string, unknown>> {
  const records: Array<Record<string, unknown>> = [];
  const push = (value: unknown): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value)) records.push(value as Record<string, unknown>);
  };
  const panther = corpusPath('cloudtrail/panther-analysis.rule-tests.jsonl');
  if (existsSync(panther)) {
    for (const line of readFileSync(panther, 'utf8').split('\n')) if (line.trim()) push((JSON.parse(line) as { event?: unknown }).event);
  }
  for (const folder of ['otrf-security-datasets', 'elastic-integrations']) {
    const dir = corpusPath(`cloudtrail/${folder}`);
    if (!existsSync(dir)) continue;
    for (const name of readdirSync(dir).sort()) {
      if (!name.endsWith('.json') && !name.endsWith('.log')) continue;
      for (const line of readFileSync(join(dir, name), 'utf8').split('\n')) {
        if (!line.trim().startsWith('{')) continue;
        try {
          push(JSON.parse(line));
        } catch {
          // not one record per line
        }
      }
    }
  }
  return records;
}
