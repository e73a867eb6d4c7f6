/**
 * The S3 source as the registry holds it: the AWS SDK (a third of a second to import) is
 * loaded on the first s3:// input, not by every local scan and every scan worker.
 */
import { isS3Uri } from './s3-uri.ts';
import type { Source } from './source.ts';
import type { InputUnit } from '../core/input-unit.ts';

export const lazyS3Source: Source = {
  name: 's3',
  claims: isS3Uri,
  async *expand(path, onError, options) {
    const { s3Source } = await import('./s3.ts');
    yield* s3Source.expand(path, onError, options);
  },
  unitAt(uri, options) {
    let unit: Promise<InputUnit> | undefined;
    const real = (): Promise<InputUnit> => (unit ??= import('./s3.ts').then(({ s3Source }) => (s3Source.unitAt as NonNullable<Source['unitAt']>)(uri, options)));
    return { uri, open: async () => (await real()).open(), readAll: async () => ((await real()).readAll as () => Promise<Buffer>)() };
  },
};
