/**
 * The S3 client: the SDK's standard credential chain (environment, shared profiles, SSO,
 * container and instance roles), narrowed by --profile / --region / --endpoint-url. The SDK
 * retries throttling (503 SlowDown), 5xx and network errors with exponential backoff and jitter.
 */
import { S3Client } from '@aws-sdk/client-s3';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import type { AwsClientOptions } from './source.ts';

/** Attempts per S3 request, the first included (the SDK default is 3; log buckets throttle). */
export const S3_MAX_ATTEMPTS = 6;

/**
 * The AWS SDK warns on Node 20 that *future* SDK releases will need Node 22. The warning says
 * nothing about this run, and the service's stderr carries one JSON object per line.
 */
export function quietSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

/** The region from the options, the environment or the profile; us-east-1 when none says (S3 redirects to the bucket's region). */
function regionProvider(options: AwsClientOptions): string | (() => Promise<string>) {
  if (options.region !== undefined) return options.region;
  const fromEnvironment = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
  if (fromEnvironment !== undefined && fromEnvironment !== '') return fromEnvironment;
  const probe = new S3Client(options.profile === undefined ? {} : { profile: options.profile });
  return async () => {
    try {
      return await probe.config.region();
    } catch {
      return 'us-east-1';
    }
  };
}

export function createS3Client(options: AwsClientOptions = {}, maxAttempts = S3_MAX_ATTEMPTS): S3Client {
  quietSdkNodeWarning();
  const config: S3ClientConfig = {
    region: regionProvider(options),
    followRegionRedirects: true,
    maxAttempts,
    retryMode: 'standard',
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  };
  if (options.profile !== undefined) config.profile = options.profile;
  if (options.endpointUrl !== undefined) {
    config.endpoint = options.endpointUrl;
    config.forcePathStyle = true;
    // S3-compatible stores (MinIO, Ceph, s3rver...) often reject or omit the newer flexible checksums.
    config.requestChecksumCalculation = 'WHEN_REQUIRED';
    config.responseChecksumValidation = 'WHEN_REQUIRED';
  }
  return new S3Client(config);
}
