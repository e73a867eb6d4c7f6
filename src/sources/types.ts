import type { Readable } from 'node:stream';
import type { LocatedError } from '../errors.ts';

/**
 * One unit of work: a file, an S3 object, stdin. Sources only say where bytes come from;
 * formats/ decides what the bytes are (gzip or not, which log format) from the content.
 */
export interface InputUnit {
  /** A path, `-` for stdin, or `s3://bucket/key`; used in every error location. */
  uri: string;
  /** Size in bytes when known up front (progress, scheduling). */
  size?: number;
  /** Opens the raw byte stream (still compressed if the input is). */
  open(): Readable | Promise<Readable>;
}

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
  expand(path: string, onError: (error: LocatedError) => void): AsyncIterable<InputUnit>;
}
