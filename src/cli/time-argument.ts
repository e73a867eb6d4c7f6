const RELATIVE_UNITS_MS: Record<string, number> = {
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

/**
 * Parses --since / --until: RFC 3339 (`2026-11-02T09:00:00Z`), a date (`2026-11-02`, UTC
 * midnight) or a duration back from now (`90s`, `30m`, `24h`, `7d`, `2w`). Returns epoch ms,
 * or undefined when the text is none of these.
 */
export function parseTimeArgument(text: string, now: number): number | undefined {
  const trimmed = text.trim();
  const relative = /^(\d+(?:\.\d+)?)([smhdw])$/.exec(trimmed);
  if (relative !== null) {
    const amount = Number(relative[1]);
    const unit = RELATIVE_UNITS_MS[relative[2] ?? ''];
    return unit === undefined ? undefined : now - amount * unit;
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(trimmed)) {
    const time = Date.parse(`${trimmed}T00:00:00Z`);
    return Number.isNaN(time) ? undefined : time;
  }
  if (/^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})$/.test(trimmed)) {
    const time = Date.parse(trimmed.replace(' ', 'T'));
    return Number.isNaN(time) ? undefined : time;
  }
  return undefined;
}
