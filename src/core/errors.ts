/**
 * Every user-facing error code in one place (docs/architecture.md, Errors). docs/errors.md documents each one;
 * a test checks that the two agree.
 */
export const ERROR_CODES = {
  // Rules (exit code 2)
  TH_RULE_READ: 'A rule file or folder could not be read.',
  TH_RULE_YAML: 'A rule file is not valid YAML.',
  TH_RULE_SCHEMA: 'A rule document lacks a required field or a field has the wrong type.',
  TH_RULE_MODIFIER: 'A detection value uses an unknown modifier or an invalid modifier combination.',
  TH_RULE_VALUE: 'A detection value cannot be used with its modifiers (bad regex, CIDR, number, base64 input).',
  TH_RULE_CONDITION: 'A condition has a syntax error.',
  TH_RULE_IDENTIFIER: 'A condition names a search identifier the detection does not define.',
  TH_RULE_DEPRECATED_AGGREGATION: 'A condition uses the Sigma 1.0 aggregation syntax (`| count()`), replaced by correlation rules.',
  TH_RULE_UNSUPPORTED: 'A rule uses a Sigma feature this engine does not implement.',
  TH_RULE_DUPLICATE: 'Two rules share an id or a name.',
  TH_RULE_REFERENCE: 'A correlation or filter references a rule that is not loaded.',
  TH_RULE_PLACEHOLDER: 'An `|expand` placeholder has no value in the --vars file.',
  TH_RULE_EXPIRED: 'A filter is past its `expires` date and no longer applies.',
  TH_RULE_TEST: 'A rule test case is malformed or its expectation failed.',
  TH_RULE_REGEX_UNSAFE: 'A regular expression in a rule could backtrack catastrophically and no linear-time engine can run it.',
  TH_RULE_LIMIT: 'A rule, filter, tests or vars file exceeds a size, nesting or YAML alias limit.',
  TH_RULE_ATTACK: 'An ATT&CK tag names a technique id that is unknown, revoked or deprecated.',
  TH_RULE_SUSPECT: 'A rule is valid Sigma but likely does not mean what it says (`|base64offset` without `|contains`).',
  // Configuration and arguments (exit code 2)
  TH_CONFIG: 'A configuration file or command-line argument is invalid.',
  TH_VARS: 'The --vars file is invalid.',
  TH_TUNING: 'A tuning file is invalid, names a rule that is not loaded, or an override in it has expired.',
  // Inputs (exit code 3)
  TH_INPUT_READ: 'An input file, folder or stream could not be read.',
  TH_INPUT_GZIP: 'A gzip input is damaged or truncated.',
  TH_INPUT_JSON: 'An input holds invalid JSON.',
  TH_INPUT_RECORD: 'A record is not a JSON object, or lacks what its format requires.',
  TH_INPUT_FORMAT: 'The content of an input matches no supported log format.',
  TH_INPUT_LIMIT: 'An input exceeds a limit (decompressed size, nesting depth); the rest of the input is still read.',
  TH_INPUT_SPECIAL: 'An input path is a FIFO, socket or device, or a symbolic link leaving the scanned folder; it is not read.',
  TH_INTEL_FEED: 'A threat-intelligence feed could not be read or parsed.',
  TH_INTEL_INDICATOR: 'An indicator in a feed is invalid or uses an unsupported pattern.',
  TH_INTEL_TOO_BROAD: 'An indicator covers too wide a network (0.0.0.0/0, ::/0, unspecified or mapped ranges) and was refused.',
  // S3, SQS and the watch service
  TH_S3_LIST: 'An S3 bucket or prefix could not be listed.',
  TH_SQS_RECEIVE: 'Messages could not be received from an SQS queue.',
  TH_SQS_MESSAGE: 'An SQS message is not an S3 notification trailhound understands; it was set aside.',
  TH_SQS_ACK: 'An SQS message could not be deleted or its visibility changed.',
  TH_INPUT_POISONED: 'An object failed too many times and was set aside instead of retried forever.',
  TH_SINK_DELIVERY: 'An alert could not be delivered to a sink; it will be retried.',
  TH_SINK_DEAD_LETTER: 'An alert could not be delivered after every retry and went to the dead-letter file.',
  TH_STATE_OPEN: 'The state directory or its SQLite database could not be opened.',
  TH_STATE_DAMAGED: 'The state database is empty, truncated or fails its integrity check.',
  // The alert store and `serve`
  TH_STORE_OPEN: 'The alert store could not be opened, or was written by a newer trailhound.',
  TH_STORE_NOT_FOUND: 'No stored alert (or suppression, or token) has that id.',
  TH_STORE_CONFLICT: 'A triage change was made against an older version of the alert: reload it and try again.',
  TH_STORE_INVALID: 'A triage change, filter or suppression is invalid (closing without a reason, an unknown status...).',
  TH_AUTH: 'The request has no valid token or session.',
  TH_FORBIDDEN: "The token's role does not allow this request.",
  TH_CSRF: 'A state-changing request from the browser lacks a valid CSRF token.',
  TH_STATE_RESTORE: 'Saved correlation state could not be fully restored (rules changed since it was saved).',
  // Cluster mode
  TH_CLUSTER_JOB: 'A scan job of that name exists with other inputs, rules or options, or cannot run as a job.',
  TH_CLUSTER_UNAVAILABLE: 'The PostgreSQL server of the cluster could not be reached for too long.',
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** An error a user can act on: what went wrong, where, and a code to look up in docs/errors.md. */
export interface LocatedError {
  code: ErrorCode;
  message: string;
  /** `file:line:col` for rules and config, `uri#record` or `uri:line` for inputs. */
  location: string;
}

/** The one-line form printed on stderr: `location: CODE message`. */
export function formatLocatedError(error: LocatedError): string {
  return `${error.location}: ${error.code} ${error.message}`;
}

/** Thrown where a located error must abort the current unit of work (never the whole scan). */
export class TrailhoundError extends Error {
  readonly code: ErrorCode;
  readonly location: string;

  constructor(error: LocatedError) {
    super(error.message);
    this.name = 'TrailhoundError';
    this.code = error.code;
    this.location = error.location;
  }

  toLocated(): LocatedError {
    return { code: this.code, message: this.message, location: this.location };
  }
}

/** A located error: `located('TH_INPUT_JSON', 'what went wrong and what to do', 'file.json#0.Records[3]')`. */
export function located(code: ErrorCode, message: string, location: string): LocatedError {
  return { code, message, location };
}
