/**
 * The per-unit side of decoding that every format shares: record numbering (origins), error
 * reporting and counting. One instance per input unit; formats receive it as UnwrapContext
 * while they unwrap one top-level value and must not keep it.
 */
import type { LocatedError } from '../core/errors.ts';
import type { Origin } from '../core/envelope.ts';
import type { DecodeOptions, PayloadBudget, UnwrapContext } from './types.ts';
import { DEFAULT_MAX_DECOMPRESSED_BYTES } from './open-unit.ts';

export class UnitContext implements UnwrapContext {
  readonly uri: string;
  line: number | undefined = undefined;
  valueIndex = 0;
  readonly flowFormat: string | undefined;
  readonly payloadBudget: PayloadBudget;
  private nextIndex = 0;
  private readonly options: DecodeOptions;

  constructor(uri: string, options: DecodeOptions, payloadBudget?: PayloadBudget) {
    this.uri = uri;
    this.options = options;
    this.flowFormat = options.flowFormat;
    this.payloadBudget = payloadBudget ?? { limit: options.payloadLimit ?? options.maxDecompressed ?? DEFAULT_MAX_DECOMPRESSED_BYTES, used: 0 };
  }

  nextOrigin(line?: number): Origin {
    const index = this.nextIndex++;
    return line === undefined ? { uri: this.uri, index } : { uri: this.uri, index, line };
  }

  reportError(error: LocatedError): void {
    this.options.stats.errors += 1;
    this.options.onError(error);
  }

  countSkipped(): void {
    this.options.stats.skipped += 1;
  }

  countRecords(n: number): void {
    this.options.stats.records += n;
  }

  locate(member: string): string {
    return `${this.uri}#${this.valueIndex}${member}`;
  }
}
