import type { Readable } from 'node:stream';

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
  /** The whole raw input in one buffer, where the source reads it at once (a regular local file). */
  readAll?(): Promise<Buffer>;
}
