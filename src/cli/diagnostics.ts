import type { LocatedError } from '../core/errors.ts';
import { formatLocatedError } from '../core/errors.ts';
import { terminalText } from '../core/terminal-text.ts';

/**
 * stderr is for people: errors, warnings, progress and the summary; stdout carries data only.
 * Every line goes through terminalText: messages quote what logs, rule files, feeds and file
 * names hold, and none of it may act on the terminal (escape sequences, forged lines).
 */
export class Diagnostics {
  private readonly quiet: boolean;
  private readonly stream: NodeJS.WritableStream;
  private progressShown = false;
  /** After stopProgress(): the scan is over, nothing is drawn in place any more. */
  private progressStopped = false;
  errorCount = 0;

  constructor(options: { quiet: boolean; stream?: NodeJS.WritableStream }) {
    this.quiet = options.quiet;
    this.stream = options.stream ?? process.stderr;
  }

  /** Errors are always shown, even with --quiet: a silent failure is the worst kind. */
  error(error: LocatedError): void {
    this.errorCount += 1;
    this.line(`error: ${formatLocatedError(error)}`);
  }

  warn(message: string): void {
    if (this.quiet) return;
    this.line(`warning: ${message}`);
  }

  info(message: string): void {
    if (this.quiet) return;
    this.line(message);
  }

  /** A single line redrawn in place; only called when stderr is a terminal. */
  progress(line: string): void {
    if (this.quiet || this.progressStopped) return;
    this.stream.write(`\r\u001b[2K${terminalText(line)}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (!this.progressShown) return;
    this.stream.write('\r\u001b[2K');
    this.progressShown = false;
  }

  /**
   * Clears the progress line for good: called when the scan is over, before anything else is
   * written to the terminal (the table's `No alerts.`, the summary), so that nothing lands on it.
   */
  stopProgress(): void {
    this.clearProgress();
    this.progressStopped = true;
  }

  /** One whole line, the progress line cleared first, its text safe for a terminal. */
  private line(text: string): void {
    this.clearProgress();
    this.stream.write(`${terminalText(text)}\n`);
  }
}
