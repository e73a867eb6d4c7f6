import type { LocatedError } from '../core/errors.ts';
import type { InputUnit } from '../core/input-unit.ts';

/**
 * A kind of input path (files and folders, stdin, S3...). src/sources/index.ts lists them; the
 * first that claims a path expands it.
 */
export interface Source {
  name: string;
  /** True when this source handles the path (`-`, a scheme such as `s3://`, or any local path). */
  claims(path: string): boolean;
  /**
   * The units behind one path, in a stable order. A path or part of it that cannot be read is
   * reported through onError (TH_INPUT_READ) and the rest goes on; never throws for that.
   */
  expand(path: string, onError: (error: LocatedError) => void, options?: SourceOptions): AsyncIterable<InputUnit>;
  /**
   * The one unit at a uri that expand() yielded earlier (a file path, `s3://bucket/key`): how a
   * cluster node reopens a unit another process listed. Absent for sources whose units cannot
   * be reopened (stdin).
   */
  unitAt?(uri: string, options?: SourceOptions): InputUnit;
}

/** How to reach an AWS service: the standard credential chain, narrowed by these when given. */
export interface AwsClientOptions {
  region?: string;
  /** A profile of the shared config and credentials files (~/.aws). */
  profile?: string;
  /** An S3- or SQS-compatible endpoint (path-style addressing is then used for S3). */
  endpointUrl?: string;
}

/** What selects and reaches the inputs besides their paths (scan's --since, --account, --region...). */
export interface SourceOptions {
  /** Event-time bounds, epoch ms, inclusive: a source that knows its key layout (S3) skips what lies outside. */
  since?: number;
  until?: number;
  /** AWS account ids to keep, where the layout names them; absent or empty: all. */
  accounts?: readonly string[];
  /** AWS regions to keep, where the layout names them; absent or empty: all. */
  regions?: readonly string[];
  aws?: AwsClientOptions;
}
