/**
 * An internal signal that a rule value or modifier cannot be compiled. Thrown by the small
 * helpers (encodings, placeholders) and turned into a located error by their caller, which
 * knows the YAML node; it never escapes the public API.
 */
import type { ErrorCode } from '../core/errors.ts';

export class SigmaProblem extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'SigmaProblem';
    this.code = code;
  }
}
