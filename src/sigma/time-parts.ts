/**
 * The time modifiers (`minute`, `hour`, `day`, `week`, `month`, `year`): a number read from an
 * ISO 8601 date in the event, as written. Per the specification they do no time zone or format
 * conversion: `2024-03-10T23:30:00+02:00|hour` is 23. `week` is the ISO 8601 week number.
 * Reads the text by position, without allocating.
 */

export type TimePart = 'minute' | 'hour' | 'day' | 'week' | 'month' | 'year';

export const TIME_PARTS: readonly TimePart[] = ['minute', 'hour', 'day', 'week', 'month', 'year'];

function digits(text: string, start: number, count: number): number {
  let value = 0;
  for (let i = start; i < start + count; i++) {
    const c = text.charCodeAt(i);
    if (c < 48 || c > 57) return -1;
    value = value * 10 + (c - 48);
  }
  return value;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** ISO weekday, Monday 1 .. Sunday 7. */
function isoWeekday(year: number, month: number, day: number): number {
  const days = Math.floor(Date.UTC(year, month - 1, day) / 86_400_000);
  // 1970-01-01 was a Thursday (4).
  return ((((days + 3) % 7) + 7) % 7) + 1;
}

function isoWeeksInYear(year: number): number {
  const jan1 = isoWeekday(year, 1, 1);
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  return jan1 === 4 || (leap && jan1 === 3) ? 53 : 52;
}

/** ISO 8601 week number of a date. */
export function isoWeek(year: number, month: number, day: number): number {
  const ordinal = Math.round((Date.UTC(year, month - 1, day) - Date.UTC(year, 0, 1)) / 86_400_000) + 1;
  const week = Math.floor((ordinal - isoWeekday(year, month, day) + 10) / 7);
  if (week < 1) return isoWeeksInYear(year - 1);
  if (week > isoWeeksInYear(year)) return 1;
  return week;
}

/**
 * The requested part of an ISO 8601 date-time (`YYYY-MM-DD`, optionally followed by `T` or a
 * space and `hh:mm`...). NaN when the text is not such a date, or lacks the time for hour/minute.
 */
export function extractTimePart(text: string, part: TimePart): number {
  if (text.length < 10 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45) return Number.NaN;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  if (year < 0 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return Number.NaN;
  if (text.length > 10) {
    const sep = text.charCodeAt(10);
    if (sep !== 84 && sep !== 116 && sep !== 32) return Number.NaN;
  }
  switch (part) {
    case 'year':
      return year;
    case 'month':
      return month;
    case 'day':
      return day;
    case 'week':
      return isoWeek(year, month, day);
    case 'hour':
    case 'minute': {
      if (text.length < 16 || text.charCodeAt(13) !== 58) return Number.NaN;
      const hour = digits(text, 11, 2);
      const minute = digits(text, 14, 2);
      if (hour < 0 || hour > 23 || minute < 0 || minute > 59) return Number.NaN;
      return part === 'hour' ? hour : minute;
    }
  }
}
