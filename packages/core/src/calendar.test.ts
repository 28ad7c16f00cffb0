import { describe, expect, it } from 'vitest';
import { MarketCalendar } from './calendar.js';
import { CalendarError } from './errors.js';
import { zonedTimeToEpoch } from './time-zone.js';

const cal = new MarketCalendar();
const ny = (date: string, hh: number, mm: number): number => {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  return zonedTimeToEpoch('America/New_York', y, m, d, hh, mm);
};
const HOUR = 3_600_000;

/** NYSE's published full-day holidays. */
const HOLIDAYS: Record<number, string[]> = {
  2024: ['2024-01-01', '2024-01-15', '2024-02-19', '2024-03-29', '2024-05-27', '2024-06-19', '2024-07-04', '2024-09-02', '2024-11-28', '2024-12-25'],
  2025: ['2025-01-01', '2025-01-09', '2025-01-20', '2025-02-17', '2025-04-18', '2025-05-26', '2025-06-19', '2025-07-04', '2025-09-01', '2025-11-27', '2025-12-25'],
  2026: ['2026-01-01', '2026-01-19', '2026-02-16', '2026-04-03', '2026-05-25', '2026-06-19', '2026-07-03', '2026-09-07', '2026-11-26', '2026-12-25'],
};
/** NYSE's published 13:00 early closes. */
const EARLY: Record<number, string[]> = {
  2024: ['2024-07-03', '2024-11-29', '2024-12-24'],
  2025: ['2025-07-03', '2025-11-28', '2025-12-24'],
  2026: ['2026-11-27', '2026-12-24'],
};

describe('NYSE holidays', () => {
  for (const [year, dates] of Object.entries(HOLIDAYS)) {
    it(`lists exactly the ${dates.length} weekday holidays of ${year}`, () => {
      const all: string[] = [];
      for (let m = 1; m <= 12; m++) {
        for (let d = 1; d <= 31; d++) {
          const date = `${year}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
          const dt = new Date(`${date}T12:00:00Z`);
          if (dt.getUTCMonth() + 1 !== m) continue;
          const dow = dt.getUTCDay();
          if (dow !== 0 && dow !== 6 && cal.isHoliday(date)) all.push(date);
        }
      }
      expect(all).toEqual(dates);
    });
    for (const date of dates) {
      it(`${date} (${cal.holidayName(date) ?? '?'}) has no session`, () => {
        expect(cal.sessionOn(date)).toBeUndefined();
        expect(cal.isOpen(ny(date, 12, 0))).toBe(false);
      });
    }
  }
  it('does not observe New Year on the Friday before when January 1 is a Saturday (2022)', () => {
    expect(cal.isTradingDay('2021-12-31')).toBe(true);
  });
  it('observes a Sunday New Year on the Monday (2023-01-02)', () => {
    expect(cal.isHoliday('2023-01-02')).toBe(true);
  });
  it('has no Juneteenth holiday before 2022', () => {
    expect(cal.isTradingDay('2021-06-18')).toBe(true);
  });
});

describe('NYSE 13:00 early closes', () => {
  for (const [year, dates] of Object.entries(EARLY)) {
    it(`${year}: exactly ${dates.join(', ')}`, () => {
      const early = cal.sessionsBetween(`${year}-01-01`, `${year}-12-31`).filter((s) => s.earlyClose).map((s) => s.date);
      expect(early).toEqual(dates);
    });
    for (const date of dates) {
      it(`${date} closes at 13:00 New York`, () => {
        const s = cal.sessionOn(date);
        expect(s).toBeDefined();
        expect(s?.close).toBe(ny(date, 13, 0));
        expect(cal.isOpen(ny(date, 12, 59))).toBe(true);
        expect(cal.isOpen(ny(date, 13, 0))).toBe(false);
      });
    }
  }
  it('July 3 2026 is the observed Independence Day, not an early close', () => {
    expect(cal.holidayName('2026-07-03')).toBe('Independence Day');
    expect(cal.sessionOn('2026-07-02')?.earlyClose).toBe(false);
  });
});

describe('sessions through daylight saving time', () => {
  it('opens at 09:30 New York = 14:30 UTC before and 13:30 UTC after 2024-03-10', () => {
    expect(cal.sessionOn('2024-03-08')?.open).toBe(Date.UTC(2024, 2, 8, 14, 30));
    expect(cal.sessionOn('2024-03-11')?.open).toBe(Date.UTC(2024, 2, 11, 13, 30));
    expect(cal.isTradingDay('2024-03-10')).toBe(false);
  });
  it('opens at 13:30 UTC before and 14:30 UTC after 2024-11-03', () => {
    expect(cal.sessionOn('2024-11-01')?.open).toBe(Date.UTC(2024, 10, 1, 13, 30));
    expect(cal.sessionOn('2024-11-04')?.open).toBe(Date.UTC(2024, 10, 4, 14, 30));
    expect(cal.sessionOn('2024-11-04')?.close).toBe(Date.UTC(2024, 10, 4, 21, 0));
  });
  it('a regular session lasts 6.5 hours on the Monday after each change', () => {
    for (const d of ['2024-03-11', '2024-11-04']) {
      const s = cal.sessionOn(d);
      expect(s && s.close - s.open).toBe(6.5 * HOUR);
    }
  });
});

describe('session queries', () => {
  it('Good Friday 2025-04-18: closed; previous session Thursday, next Monday', () => {
    const t = ny('2025-04-18', 11, 0);
    expect(cal.isOpen(t)).toBe(false);
    expect(cal.previousSession(t).date).toBe('2025-04-17');
    expect(cal.nextSession(t).date).toBe('2025-04-21');
  });
  it('sessionOfBar includes the bar that starts at the close (the closing auction), 391 a full day', () => {
    expect(cal.sessionOfBar(ny('2025-10-16', 9, 29))).toBeUndefined();
    expect(cal.sessionOfBar(ny('2025-10-16', 9, 30))?.date).toBe('2025-10-16');
    expect(cal.sessionOfBar(ny('2025-10-16', 16, 0))?.date).toBe('2025-10-16');
    expect(cal.sessionOfBar(ny('2025-10-16', 16, 1))).toBeUndefined();
    expect(cal.sessionOfBar(ny('2025-07-03', 13, 0))?.date).toBe('2025-07-03');
    expect(cal.sessionOfBar(ny('2025-07-03', 13, 1))).toBeUndefined();
    let n = 0;
    for (let t = ny('2025-10-16', 0, 0); t < ny('2025-10-17', 0, 0); t += 60_000) if (cal.sessionOfBar(t) !== undefined) n++;
    expect(n).toBe(391);
  });

  it('sessionAt is half-open: open at 09:30, closed at 16:00', () => {
    expect(cal.sessionAt(ny('2025-10-16', 9, 29))).toBeUndefined();
    expect(cal.sessionAt(ny('2025-10-16', 9, 30))?.date).toBe('2025-10-16');
    expect(cal.sessionAt(ny('2025-10-16', 15, 59))?.date).toBe('2025-10-16');
    expect(cal.sessionAt(ny('2025-10-16', 16, 0))).toBeUndefined();
  });
  it('the most recent complete session is yesterday\'s until today\'s closes', () => {
    expect(cal.mostRecentCompleteSession(ny('2025-10-16', 15, 59)).date).toBe('2025-10-15');
    expect(cal.mostRecentCompleteSession(ny('2025-10-16', 16, 0)).date).toBe('2025-10-16');
    // Monday morning: Friday's session.
    expect(cal.mostRecentCompleteSession(ny('2025-10-20', 8, 0)).date).toBe('2025-10-17');
    // After Thanksgiving's early close.
    expect(cal.mostRecentCompleteSession(ny('2025-11-28', 14, 0)).date).toBe('2025-11-28');
  });
  it('next session across a year boundary and a holiday (2025-12-31 -> 2026-01-02)', () => {
    expect(cal.nextSession(ny('2025-12-31', 17, 0)).date).toBe('2026-01-02');
  });
  it('dateOf uses New York, not UTC', () => {
    expect(cal.dateOf(Date.UTC(2025, 9, 17, 2, 0))).toBe('2025-10-16');
  });
  it('sessionsBetween counts the 138 sessions of the real data (2025-04-01 to 2025-10-16)', () => {
    expect(cal.sessionsBetween('2025-04-01', '2025-10-16')).toHaveLength(138);
  });
});

describe('openMsBetween', () => {
  it('counts only regular-session time', () => {
    expect(cal.openMsBetween(ny('2025-10-16', 15, 0), ny('2025-10-16', 15, 5))).toBe(5 * 60_000);
    // 15:58 to the next morning 09:32: two minutes of Thursday and two of Friday.
    expect(cal.openMsBetween(ny('2025-10-16', 15, 58), ny('2025-10-17', 9, 32))).toBe(4 * 60_000);
    // Across a weekend and a holiday: Friday before Good Friday? Thursday close to Monday open.
    expect(cal.openMsBetween(ny('2025-04-17', 16, 0), ny('2025-04-21', 9, 30))).toBe(0);
    // After an early close nothing is counted.
    expect(cal.openMsBetween(ny('2025-11-28', 12, 59), ny('2025-11-28', 15, 0))).toBe(60_000);
  });
  it('is 0 for an empty or reversed interval', () => {
    expect(cal.openMsBetween(5, 5)).toBe(0);
    expect(cal.openMsBetween(10, 5)).toBe(0);
  });
  it('spans many years', () => {
    const ms = cal.openMsBetween(ny('2024-01-01', 0, 0), ny('2026-12-31', 23, 0));
    const sessions = cal.sessionsBetween('2024-01-01', '2026-12-31');
    expect(ms).toBe(sessions.reduce((a, s) => a + (s.close - s.open), 0));
  });
});

describe('calendar errors', () => {
  it('rejects a malformed date with a CalendarError naming it', () => {
    expect(() => cal.sessionOn('2025-13-01')).toThrowError(/no such date '2025-13-01'/);
    expect(() => cal.sessionOn('25-1-1')).toThrowError(/malformed date '25-1-1'/);
    try {
      cal.isHoliday('nope');
    } catch (e) {
      expect(CalendarError.isInstance(e)).toBe(true);
    }
  });
  it('rejects years outside its range', () => {
    expect(() => cal.sessionOn('2300-01-02')).toThrowError(/outside the calendar's range/);
  });
  it('takes extra closures and early closes', () => {
    const c = new MarketCalendar({ extraClosures: ['2026-12-28'], extraEarlyCloses: ['2026-12-31'] });
    expect(c.isHoliday('2026-12-28')).toBe(true);
    expect(c.sessionOn('2026-12-31')?.earlyClose).toBe(true);
  });
});
