// parseDate reads cookie expiries on every set/touch of a session whose cookie went through JSON: it must give
// exactly Date.parse's number, for toISOString's strings and for anything else a cookie might hold.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import fc from 'fast-check';

const require = createRequire(import.meta.url);
const { parseDate } = require('../dist/json/iso-date.js');

const same = (s) => assert.equal(Object.is(parseDate(s), Date.parse(s)), true, `${JSON.stringify(s)}: ${parseDate(s)} vs ${Date.parse(s)}`);

test('toISOString of any date in years 0-9999 and beyond, in any order (the day cache is hit and missed)', () => {
  fc.assert(fc.property(fc.array(fc.date({ noInvalidDate: true }), { minLength: 1, maxLength: 20 }), (dates) => {
    for (const d of dates) {
      same(d.toISOString());
      // The same day again, another time of day: the cached path (none past the last day a Date can hold).
      const other = new Date(d.getTime() - (d.getTime() % 86_400_000) + 43_210_987);
      if (!Number.isNaN(other.getTime())) same(other.toISOString());
    }
  }), { numRuns: 500 });
});

test('strings of the same length that are not quite ISO timestamps give Date.parse\'s answer (often NaN)', () => {
  const base = '2026-11-27T10:20:30.456Z';
  same(base);
  for (const s of ['2026-11-27T24:00:00.000Z', '2026-11-27T23:60:00.000Z', '2026-11-27T23:59:60.000Z',
    '2026-11-27T10:20:30.456z', '2026-11-27t10:20:30.456Z', '2026-11-27T1a:20:30.456Z', '2026-11-27T10-20:30.456Z',
    '2026-02-30T10:20:30.456Z', '2026-13-01T10:20:30.456Z', '2026-11-27 10:20:30.456Z', '2026-11-27T10:20:30,456Z',
    '2026-11-27T10:20:30.4567', '+02026-11-27T10:20:30.456Z', '2026-11-27T10:20:30.456+01:00', 'Fri, 27 Nov 2026 10:20:30 GMT',
    '', 'soon', '2026-11-27', '2026-11-27T10:20:30Z']) {
    same(s);
    // Also right after a string of that day has been cached.
    same(base);
    same(s);
  }
  fc.assert(fc.property(fc.string({ minLength: 24, maxLength: 24, unit: fc.constantFrom(...'0123456789-:.TZ+ ') }), (s) => {
    same(base);
    same(s);
  }), { numRuns: 2000 });
});
