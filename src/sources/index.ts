/**
 * The sources (registries are explicit: docs/architecture.md, Layout). The first source that claims a path
 * expands it; `fileSource` claims every path, so it comes last. A new kind of input (S3,
 * SQS...) is one file implementing Source and one line here.
 */
import { located } from '../core/errors.ts';
import type { LocatedError } from '../core/errors.ts';
import { fileSource } from './files.ts';
import { lazyS3Source } from './s3-lazy.ts';
import { stdinSource } from './stdin.ts';
import type { Source, SourceOptions } from './source.ts';
import type { InputUnit } from '../core/input-unit.ts';

export type { AwsClientOptions, Source, SourceOptions } from './source.ts';

export const SOURCES: readonly Source[] = [stdinSource, lazyS3Source, fileSource];

const URL_SCHEME = /^([a-z][a-z0-9+.-]*):\/\//i;

/** The source for a path, or undefined for a URL scheme no source handles. */
export function sourceFor(path: string): Source | undefined {
  const source = SOURCES.find((candidate) => candidate.claims(path));
  if (source === fileSource && URL_SCHEME.test(path)) return undefined;
  return source;
}

/**
 * Every unit behind the given paths, in argument order (a folder's files sorted). A path
 * given twice is read once. Paths that cannot be read are reported through onError
 * (TH_INPUT_READ) and the others go on.
 */
export async function* expandInputs(paths: string[], onError: (e: LocatedError) => void, options: SourceOptions = {}): AsyncGenerator<InputUnit> {
  const done = new Set<string>();
  for (const path of paths) {
    if (done.has(path)) continue;
    done.add(path);
    const source = sourceFor(path);
    if (source === undefined) {
      const scheme = URL_SCHEME.exec(path)?.[1] ?? '';
      onError(located('TH_INPUT_READ', `${scheme}:// inputs are not supported; inputs are local files and folders, - (stdin) and s3://bucket/prefix.`, path));
      continue;
    }
    yield* source.expand(path, onError, options);
  }
}

/**
 * The unit at a uri that expandInputs() listed before (a file path, `s3://bucket/key`), to be
 * read again: a cluster node claims units by uri. Undefined for a uri no source can reopen.
 */
export function unitAt(uri: string, options: SourceOptions = {}): InputUnit | undefined {
  const source = sourceFor(uri);
  return source?.unitAt?.(uri, options);
}
