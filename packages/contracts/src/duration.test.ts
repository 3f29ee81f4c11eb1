import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DurationError, formatDuration, parseDuration } from './duration.ts';

describe('parseDuration', () => {
  it.each([
    ['90s', 90_000],
    ['1m30s', 90_000],
    ['1h', 3_600_000],
    ['1h30m', 5_400_000],
    ['1.5h', 5_400_000],
    ['250ms', 250],
    ['0', 0],
    ['0s', 0],
    ['1500us', 2],
    ['1ns', 1],
    ['2h45m30.5s', 9_930_500],
  ])('parses %s to %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each([
    ['', /empty/],
    ['10', /missing a unit/],
    ['-5s', /negative/],
    ['5 s', /not a Go duration/],
    ['5d', /not a Go duration/],
    ['s', /not a Go duration/],
    ['1h-5m', /not a Go duration/],
  ])('rejects %j with a clear message', (text, message) => {
    expect(() => parseDuration(text)).toThrow(DurationError);
    expect(() => parseDuration(text)).toThrow(message);
  });

  it('round-trips any whole-millisecond duration through formatDuration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 24 * 3_600_000 }), (ms) => {
        expect(parseDuration(formatDuration(ms))).toBe(ms);
      }),
    );
  });

  it('adds up its parts in any order', () => {
    const unit = fc.constantFrom(['h', 3_600_000], ['m', 60_000], ['s', 1000], ['ms', 1]) as fc.Arbitrary<
      [string, number]
    >;
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 10_000 }), unit), { minLength: 1, maxLength: 6 }),
        (parts) => {
          const text = parts.map(([n, [u]]) => `${n}${u}`).join('');
          const expected = parts.reduce((sum, [n, [, size]]) => sum + n * size, 0);
          expect(parseDuration(text)).toBe(expected);
        },
      ),
    );
  });

  it('never throws anything but a DurationError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (text) => {
        try {
          const ms = parseDuration(text);
          expect(Number.isSafeInteger(ms) && ms >= 0).toBe(true);
        } catch (err) {
          expect(err).toBeInstanceOf(DurationError);
        }
      }),
    );
  });
});
