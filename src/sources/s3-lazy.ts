/**
 * The S3 source as the registry holds it: the AWS SDK (a third of a second to import) is
 * loaded on the first s3:// input, not by every local scan and every scan worker.
 */
import { isS3Uri } from './s3-uri.ts';
import type { Source } from './source.ts';

export const lazyS3Source: Source = {
  name: 's3',
  claims: isS3Uri,
  async *expand(path, onError, options) {
    const { s3Source } = await import('./s3.ts');
    yield* s3Source.expand(path, onError, options);
  },
};
