// Calendar periods (day, month) in a configured time zone: their ids for counter keys, start instants, time left.

export type Period = 'day' | 'month';

interface LocalParts {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (!formatter) {
    formatter = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/** Throws a RangeError for an unknown zone (checked once at start-up). */
export function assertTimeZone(timeZone: string): void {
  formatterFor(timeZone);
}

function localParts(instant: number, timeZone: string): LocalParts {
  const parts: Record<string, number> = {};
  for (const part of formatterFor(timeZone).formatToParts(instant)) if (part.type !== 'literal') parts[part.type] = Number(part.value);
  return { year: parts.year ?? 1970, month: parts.month ?? 1, day: parts.day ?? 1, hour: parts.hour ?? 0, minute: parts.minute ?? 0, second: parts.second ?? 0 };
}

const pad = (value: number) => String(value).padStart(2, '0');

/** `2025-03-14` for a day, `2025-03` for a month: part of every budget counter's key, so a new period starts at zero. */
export function periodId(period: Period, instant: number, timeZone: string): string {
  const local = localParts(instant, timeZone);
  return period === 'day' ? `${local.year}-${pad(local.month)}-${pad(local.day)}` : `${local.year}-${pad(local.month)}`;
}

/** The instant the current period began (local midnight), to sum the ledger from. */
export function periodStart(period: Period, instant: number, timeZone: string): number {
  const local = localParts(instant, timeZone);
  // Offset of the zone at this instant: the local wall time read as if it were UTC, minus the real instant.
  const offset = Date.UTC(local.year, local.month - 1, local.day, local.hour, local.minute, local.second) - Math.floor(instant / 1000) * 1000;
  const localMidnight = Date.UTC(local.year, local.month - 1, period === 'day' ? local.day : 1);
  return localMidnight - offset;
}

/** Milliseconds until the current period ends (next local midnight, or the first of next month). */
export function periodRemainingMs(period: Period, instant: number, timeZone: string): number {
  const local = localParts(instant, timeZone);
  const secondsToday = local.hour * 3600 + local.minute * 60 + local.second;
  let remaining = (86_400 - secondsToday) * 1000;
  if (period === 'month') {
    const daysInMonth = new Date(Date.UTC(local.year, local.month, 0)).getUTCDate();
    remaining += (daysInMonth - local.day) * 86_400_000;
  }
  return Math.max(1_000, remaining);
}
