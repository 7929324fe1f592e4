import { describe, expect, it } from 'vitest';
import { stringStability, type StringSeries } from '../../../src/shared/stringStability.ts';

/**
 * Three vehicles, head 0 then followers 1 and 2, half-second rows; the disturbance starts from
 * row 2 and acts for one step. Row 0 lies outside the two-row reference window (rows 1 and 2).
 */
const SPEEDS = [
  [0, 0, 0],
  [10, 10, 10],
  [10, 12, 10],
  [8, 11, 10],
  [10, 9, 12.5],
  [13, 11, 9.95],
  [10, 11.05, 10.05],
];
const GAPS = [
  [NaN, 0, 0],
  [NaN, 20, 20],
  [NaN, 22, 20],
  [NaN, 20, 20],
  [NaN, 18, 25],
  [NaN, 21, 20],
  [NaN, 21, 20],
];
const SERIES: StringSeries = { speed: SPEEDS.flat(), gap: GAPS.flat(), nVehicles: 3, dt: 0.5 };
const QUERY = { order: [0, 1, 2], start: 2, duration: 1, referenceRows: 2 };

describe('string-stability readout on a hand-built series', () => {
  const r = stringStability(SERIES, QUERY);

  it('takes references as means over the window before the start', () => {
    expect(r.reference).toEqual({ from: 1, to: 2 });
    expect(r.vehicles.map((v) => v.referenceSpeed)).toEqual([10, 11, 10]);
    expect(r.vehicles[0].referenceGap).toBeNaN();
    expect(r.vehicles.slice(1).map((v) => v.referenceGap)).toEqual([21, 20]);
  });

  it('peaks: the head while disturbed (its later 3 m/s not counted), the followers to the end', () => {
    expect(r.vehicles.map((v) => v.peakSpeedDeviation)).toEqual([2, 2, 2.5]);
    expect(r.vehicles[0].peakGapDeviation).toBeNaN();
    expect(r.vehicles.slice(1).map((v) => v.peakGapDeviation)).toEqual([3, 5]);
    expect(Array.from(r.vehicles[0].speedDeviation)).toEqual([0, -2, 0, 3, 0]);
    expect(Array.from(r.vehicles[1].gapDeviation)).toEqual([1, -1, -3, 0, 0]);
  });

  it('ratios, verdict and recovery', () => {
    expect(r.vehicles[0].amplification).toBeNaN();
    expect(r.vehicles.slice(1).map((v) => v.amplification)).toEqual([1, 1.25]);
    expect(r.tailToHead).toBe(1.25);
    expect(r.maxAmplification).toBe(1.25);
    expect(r.verdict).toBe('amplified');
    // Row 5 is the last outside 0.1 m/s (the head's 3 m/s): recovered from row 6, 4 rows after the start.
    expect(r.tolerance).toBe(0.1);
    expect(r.recoveryTime).toBe(2);
  });

  it('not recovered when the last row is outside the tolerance', () => {
    expect(stringStability(SERIES, { ...QUERY, tolerance: 0.01 }).recoveryTime).toBeNull();
  });

  it('damped when the tail deviates less than the head', () => {
    const damped = stringStability(SERIES, { ...QUERY, order: [2, 1], duration: 2 });
    expect(damped.vehicles.map((v) => v.peakSpeedDeviation)).toEqual([2.5, 2]);
    expect(damped.tailToHead).toBe(0.8);
    expect(damped.verdict).toBe('damped');
  });

  it('no response, no followers, and the default reference window', () => {
    const still = { ...SERIES, speed: SPEEDS.map(() => [10, 10, 10]).flat() };
    expect(stringStability(still, QUERY).verdict).toBe('no response');
    expect(stringStability(still, QUERY).recoveryTime).toBe(0);
    // The head brakes, its follower keeps its speed: nothing travels down the string.
    const unfollowed = { ...SERIES, speed: SPEEDS.map((row) => [row[0], 10, 10]).flat() };
    expect(stringStability(unfollowed, { ...QUERY, order: [0, 1, 2] }).verdict).toBe('not followed');
    const alone = stringStability(SERIES, { ...QUERY, order: [1] });
    expect(alone.verdict).toBe('no followers');
    expect(alone.tailToHead).toBeNaN();
    expect(alone.maxAmplification).toBeNaN();
    // 50 rows by default, fewer before row 50: rows 0..2 here.
    expect(stringStability(SERIES, { order: [0, 1], start: 2, duration: 1 }).vehicles[0].referenceSpeed).toBeCloseTo(20 / 3, 12);
  });

  it('refuses a start outside the series and an empty string', () => {
    expect(() => stringStability(SERIES, { ...QUERY, start: 7 })).toThrow(/start 7 is outside the 7 recorded rows/);
    expect(() => stringStability(SERIES, { ...QUERY, order: [] })).toThrow(/at least its head/);
  });
});
