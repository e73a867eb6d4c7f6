/** The exit codes users script against (docs/architecture.md, Contracts). */
export const EXIT = {
  /** Done, alerts or not. */
  OK: 0,
  /** Alerts at or above --fail-on. */
  ALERTS: 1,
  /** A rule, config or argument error. */
  RULE_OR_CONFIG_ERROR: 2,
  /** Some inputs could not be read; the rest were scanned. */
  INPUT_ERROR: 3,
} as const;

/** When several outcomes apply, the one that most needs a human wins: 2, then 3, then 1. */
export function combineExitCodes(outcomes: { ruleErrors: boolean; inputErrors: boolean; failOnReached: boolean }): number {
  if (outcomes.ruleErrors) return EXIT.RULE_OR_CONFIG_ERROR;
  if (outcomes.inputErrors) return EXIT.INPUT_ERROR;
  if (outcomes.failOnReached) return EXIT.ALERTS;
  return EXIT.OK;
}
