import { describe, expect, it } from 'vitest';
import { timeNote } from '../src/progress.js';

describe('progress lines without a terminal', () => {
  it('extrapolate the time left from the fraction done once there is something to go on', () => {
    expect(timeNote(0.25, 60)).toBe(' (1m00s elapsed, ~3m00s left)');
    expect(timeNote(0.5, 3 * 3600)).toBe(' (3h00m elapsed, ~3h00m left)');
    expect(timeNote(0.9, 9)).toBe(' (9s elapsed, ~1s left)');
    // too early to say, or done
    expect(timeNote(0.5, 2)).toBe('');
    expect(timeNote(0.001, 60)).toBe('');
    expect(timeNote(1, 60)).toBe('');
  });
});
