/**
 * `s3://bucket/prefix`: not implemented yet (a later issue adds listing and streaming objects).
 * Claims the scheme so the user gets a clear error instead of "no such file".
 */
import type { Source } from './types.ts';

export const s3Source: Source = {
  name: 's3',
  claims: (path) => /^s3:\/\//i.test(path),
  // eslint-disable-next-line require-yield
  async *expand(path, onError) {
    onError({
      code: 'TH_INPUT_READ',
      message: 'S3 sources are not available yet: copy the objects first (aws s3 sync s3://bucket/prefix ./dir) and scan the folder.',
      location: path,
    });
  },
};
