/**
 * `s3://bucket/prefix`: lists the objects under the prefix in key order, pruned by the AWS log
 * layout and the --since/--until, --account and --region-filter options (s3-layout.ts), and
 * streams each through the decoders while the next ones download (s3-prefetch.ts). A prefix
 * that cannot be listed is one TH_S3_LIST error, an object that cannot be read one
 * TH_INPUT_READ error naming its s3:// URI; the scan goes on with the rest.
 */
import { located } from '../core/errors.ts';
import type { S3Client } from '@aws-sdk/client-s3';
import { createS3Client } from './s3-client.ts';
import type { LayoutFilter } from './s3-layout.ts';
import { listObjects } from './s3-list.ts';
import { prefetchUnits } from './s3-prefetch.ts';
import { downloadObject, openObject } from './s3-fetch.ts';
import type { PrefetchOptions } from './s3-prefetch.ts';
import { isS3Uri, parseS3Uri } from './s3-uri.ts';
import type { AwsClientOptions, Source, SourceOptions } from './source.ts';

export function layoutFilterOf(options: SourceOptions): LayoutFilter {
  const filter: LayoutFilter = {};
  if (options.since !== undefined) filter.since = options.since;
  if (options.until !== undefined) filter.until = options.until;
  if (options.accounts !== undefined && options.accounts.length > 0) filter.accounts = new Set(options.accounts);
  if (options.regions !== undefined && options.regions.length > 0) filter.regions = new Set(options.regions);
  return filter;
}

/** An S3 source; `clientFor` is where tests and the service plug in their own clients. */
export function createS3Source(clientFor: (options: AwsClientOptions) => S3Client, prefetch: PrefetchOptions = {}): Source {
  const clients = new Map<string, S3Client>();
  const cachedClient = (options: AwsClientOptions): S3Client => {
    const key = JSON.stringify([options.region, options.profile, options.endpointUrl]);
    let client = clients.get(key);
    if (client === undefined) {
      client = clientFor(options);
      clients.set(key, client);
    }
    return client;
  };
  return {
    name: 's3',
    claims: isS3Uri,
    async *expand(path, onError, options = {}) {
      const location = parseS3Uri(path);
      if (location === undefined) {
        onError(located('TH_INPUT_READ', 'not a valid S3 URI: write s3://bucket or s3://bucket/prefix', path));
        return;
      }
      const client = cachedClient(options.aws ?? {});
      const objects = listObjects(client, location.bucket, location.prefix, { filter: layoutFilterOf(options), onError });
      yield* prefetchUnits(client, objects, prefetch);
    },
    unitAt(uri, options = {}) {
      const location = parseS3Uri(uri);
      if (location === undefined || location.prefix === '') throw new Error(`not an S3 object URI: ${uri}`);
      const ref = { bucket: location.bucket, key: location.prefix };
      const client = cachedClient(options.aws ?? {});
      return {
        uri,
        open: async () => (await openObject(client, ref, { ...prefetch.fetch })).stream,
        readAll: async () => (await downloadObject(client, ref, { ...prefetch.fetch })).bytes,
      };
    },
  };
}

export const s3Source: Source = createS3Source((options) => createS3Client(options));
