/** `s3://bucket/prefix` URIs: what the S3 source claims and what every S3 error location uses. */

export interface S3Location {
  bucket: string;
  /** The key prefix, possibly empty; a key when the URI names one object. */
  prefix: string;
}

const S3_URI = /^s3:\/\/([^/]+)(?:\/(.*))?$/i;
/** Bucket names: 3 to 63 lowercase letters, digits, dots and hyphens (older buckets may hold uppercase and underscores). */
const BUCKET = /^[a-zA-Z0-9][a-zA-Z0-9._-]{1,254}$/;

export function isS3Uri(path: string): boolean {
  return /^s3:\/\//i.test(path);
}

/** The bucket and prefix of an `s3://` URI, or undefined when it names no valid bucket. */
export function parseS3Uri(uri: string): S3Location | undefined {
  const match = S3_URI.exec(uri);
  const bucket = match?.[1];
  if (bucket === undefined || !BUCKET.test(bucket)) return undefined;
  return { bucket, prefix: match?.[2] ?? '' };
}

export function s3Uri(bucket: string, key: string): string {
  return `s3://${bucket}/${key}`;
}
