/**
 * Listing the objects under an S3 prefix in key order, pruned by the AWS log layout (see
 * s3-layout.ts): folders are listed level by level (Delimiter '/') and only those that can hold
 * the accounts, regions and dates asked for are entered; below a date folder, where nothing is
 * left to prune, one flat listing takes everything.
 */
import { located } from '../core/errors.ts';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import type { S3Client } from '@aws-sdk/client-s3';
import type { LocatedError } from '../core/errors.ts';
import { describeS3Error, stripQuotes } from './s3-fetch.ts';
import { decidePrefix, keepObject } from './s3-layout.ts';
import type { LayoutFilter } from './s3-layout.ts';
import { s3Uri } from './s3-uri.ts';

export interface ListedObject {
  bucket: string;
  key: string;
  size: number | undefined;
  etag: string | undefined;
}

export interface ListOptions {
  filter: LayoutFilter;
  onError: (error: LocatedError) => void;
  /** Keys per ListObjectsV2 page (default and maximum 1000). */
  pageSize?: number;
  signal?: AbortSignal;
}

interface Page {
  keys: ListedObject[];
  prefixes: string[];
}

async function* pages(client: S3Client, bucket: string, prefix: string, delimiter: boolean, options: ListOptions): AsyncGenerator<Page> {
  let token: string | undefined;
  do {
    let output;
    try {
      output = await client.send(
        new ListObjectsV2Command({
          Bucket: bucket,
          Prefix: prefix,
          ...(delimiter ? { Delimiter: '/' } : {}),
          ...(token === undefined ? {} : { ContinuationToken: token }),
          ...(options.pageSize === undefined ? {} : { MaxKeys: options.pageSize }),
        }),
        options.signal === undefined ? {} : { abortSignal: options.signal },
      );
    } catch (error) {
      if (options.signal?.aborted === true) return;
      options.onError(located('TH_S3_LIST', `cannot list the objects under this prefix: ${describeS3Error(error)}. Check the bucket name, --region/--profile and s3:ListBucket.`, s3Uri(bucket, prefix)));
      return;
    }
    const keys: ListedObject[] = [];
    for (const item of output.Contents ?? []) {
      if (item.Key === undefined) continue;
      keys.push({ bucket, key: item.Key, size: item.Size, etag: stripQuotes(item.ETag) });
    }
    const prefixes: string[] = [];
    for (const item of output.CommonPrefixes ?? []) if (item.Prefix !== undefined) prefixes.push(item.Prefix);
    yield { keys, prefixes };
    token = output.IsTruncated === true ? output.NextContinuationToken : undefined;
  } while (token !== undefined);
}

/**
 * Every object to read under `prefix`, in key order (S3's order: within a page, keys and
 * folders interleave; a key sorts before or after a whole folder, never inside it).
 */
export async function* listObjects(client: S3Client, bucket: string, prefix: string, options: ListOptions): AsyncGenerator<ListedObject> {
  const userSegments = prefix.split('/').length - 1;
  const { filter } = options;

  async function* flat(folder: string): AsyncGenerator<ListedObject> {
    for await (const page of pages(client, bucket, folder, false, options)) {
      for (const object of page.keys) if (keepObject(object.key, filter)) yield object;
    }
  }

  async function* walk(folder: string): AsyncGenerator<ListedObject> {
    for await (const page of pages(client, bucket, folder, true, options)) {
      let k = 0;
      let p = 0;
      while (k < page.keys.length || p < page.prefixes.length) {
        const object = page.keys[k];
        const sub = page.prefixes[p];
        if (object !== undefined && (sub === undefined || object.key < sub)) {
          k += 1;
          if (keepObject(object.key, filter)) yield object;
          continue;
        }
        p += 1;
        if (sub === undefined) continue;
        const decision = decidePrefix(sub, filter, userSegments);
        if (decision === 'walk') yield* walk(sub);
        else if (decision === 'flat') yield* flat(sub);
      }
    }
  }

  yield* walk(prefix);
}
