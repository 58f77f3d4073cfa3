/**
 * `Date.parse` for the timestamps express-session's cookies hold (`Date#toISOString`, `2026-11-27T10:00:00.000Z`).
 *
 * Why: a session whose cookie went through JSON (a migration script, a wrapper store) has its expiry only as that
 * string, and `set`/`touch` read it on every call; `Date.parse` costs 250-400 ns here. The calendar day is parsed
 * once (by `Date.parse` itself) and the time of day is arithmetic, so the result is `Date.parse`'s by construction;
 * test/iso-date.test.mjs checks it on random strings.
 */

const DAY_MS = 86_400_000;
/** The date part (`2026-11-27T`) of the last string parsed, and that day's start in ms since the epoch. */
let cachedPrefix = '';
let cachedDayMs = 0;

function digit(s: string, i: number): number {
  const d = s.charCodeAt(i) - 48;
  return d >= 0 && d <= 9 ? d : NaN;
}

/** Ms since the start of the day of `HH:MM:SS.sssZ` at offset 11 of a 24-character string; NaN when it is not that. */
function timeOfDay(s: string): number {
  if (s.charCodeAt(13) !== 58 || s.charCodeAt(16) !== 58 || s.charCodeAt(19) !== 46 || s.charCodeAt(23) !== 90) return NaN;
  const hours = digit(s, 11) * 10 + digit(s, 12);
  const minutes = digit(s, 14) * 10 + digit(s, 15);
  const seconds = digit(s, 17) * 10 + digit(s, 18);
  const ms = digit(s, 20) * 100 + digit(s, 21) * 10 + digit(s, 22);
  // 24:00 is valid ISO (the next day's midnight): rare enough to leave to Date.parse, as is any NaN.
  if (!(hours <= 23 && minutes <= 59 && seconds <= 59 && ms >= 0)) return NaN;
  return ((hours * 60 + minutes) * 60 + seconds) * 1000 + ms;
}

/** Ms since the epoch of a date string, exactly as `Date.parse` gives it (NaN when it is not a date). */
export function parseDate(s: string): number {
  if (s.length === 24 && s.charCodeAt(10) === 84) {
    const time = timeOfDay(s);
    if (time === time) {
      if (cachedPrefix !== '' && s.startsWith(cachedPrefix)) return cachedDayMs + time;
      const parsed = Date.parse(s);
      if (parsed === parsed) {
        const day = parsed - time;
        // Only a day that starts at a whole UTC day is cached (always so for a 'Z' string; the check is the proof).
        if (day % DAY_MS === 0) {
          cachedPrefix = s.slice(0, 11);
          cachedDayMs = day;
        }
      }
      return parsed;
    }
  }
  return Date.parse(s);
}
