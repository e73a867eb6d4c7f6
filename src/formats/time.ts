/**
 * Timestamps in log records, to epoch milliseconds. CloudTrail writes `2024-05-01T10:00:00Z`
 * millions of times, so that shape is read by hand; anything else goes to Date.parse.
 */

function digits(text: string, start: number, count: number): number {
  let n = 0;
  for (let i = start; i < start + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/**
 * Epoch ms of an ISO 8601 date-time (`T` or space between date and time, optional fraction,
 * `Z`, `±hh:mm` or no zone: no zone means UTC, as in AWS logs). NaN when it is not a time.
 */
export function parseTimestamp(text: string): number {
  const n = text.length;
  if (n >= 19 && text.charCodeAt(4) === 45 && text.charCodeAt(7) === 45 && text.charCodeAt(13) === 58 && text.charCodeAt(16) === 58) {
    const sep = text.charCodeAt(10);
    const year = digits(text, 0, 4);
    const month = digits(text, 5, 2);
    const day = digits(text, 8, 2);
    const hour = digits(text, 11, 2);
    const minute = digits(text, 14, 2);
    const second = digits(text, 17, 2);
    if ((sep === 84 || sep === 32 || sep === 116) && year >= 0 && month >= 1 && month <= 12 && day >= 1 && day <= 31 && hour >= 0 && hour <= 24 && minute >= 0 && minute <= 59 && second >= 0 && second <= 60) {
      let i = 19;
      let ms = 0;
      if (text.charCodeAt(i) === 46) {
        i++;
        let scale = 100;
        while (i < n) {
          const d = text.charCodeAt(i) - 48;
          if (d < 0 || d > 9) break;
          ms += d * scale;
          scale /= 10;
          i++;
        }
        ms = Math.floor(ms);
      }
      let offset = 0;
      const zulu = i === n || (i === n - 1 && (text.charCodeAt(i) === 90 || text.charCodeAt(i) === 122));
      if (!zulu) {
        const zone = n - i;
        const sign = text.charCodeAt(i) === 45 ? -1 : text.charCodeAt(i) === 43 ? 1 : 0;
        if (sign === 0 || (zone !== 6 && zone !== 5 && zone !== 3)) return Date.parse(text);
        const oh = digits(text, i + 1, 2);
        const om = zone === 3 ? 0 : digits(text, n - 2, 2);
        if (oh < 0 || om < 0) return Date.parse(text);
        offset = sign * (oh * 60 + om) * 60_000;
      }
      const ts = Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset;
      return Number.isFinite(ts) ? ts : NaN;
    }
  }
  return Date.parse(text);
}
