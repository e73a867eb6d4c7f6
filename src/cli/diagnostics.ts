import type { LocatedError } from '../core/errors.ts';
import { formatLocatedError } from '../core/errors.ts';

/** stderr is for people: errors, warnings, progress and the summary; stdout carries data only. */
export class Diagnostics {
  private readonly quiet: boolean;
  private readonly stream: NodeJS.WritableStream;
  private progressShown = false;
  errorCount = 0;

  constructor(options: { quiet: boolean; stream?: NodeJS.WritableStream }) {
    this.quiet = options.quiet;
    this.stream = options.stream ?? process.stderr;
  }

  /** Errors are always shown, even with --quiet: a silent failure is the worst kind. */
  error(error: LocatedError): void {
    this.errorCount += 1;
    this.clearProgress();
    this.stream.write(`error: ${formatLocatedError(error)}\n`);
  }

  warn(message: string): void {
    if (this.quiet) return;
    this.clearProgress();
    this.stream.write(`warning: ${message}\n`);
  }

  info(message: string): void {
    if (this.quiet) return;
    this.clearProgress();
    this.stream.write(`${message}\n`);
  }

  /** A single line redrawn in place; only called when stderr is a terminal. */
  progress(line: string): void {
    if (this.quiet) return;
    this.stream.write(`\r\u001b[2K${line}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (!this.progressShown) return;
    this.stream.write('\r\u001b[2K');
    this.progressShown = false;
  }
}
