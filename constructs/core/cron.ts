/**
 * Five-field cron expressions (minute hour day-of-month month day-of-week,
 * UTC) as busybox crond reads them: `*`, numbers, `a-b`, lists and `/step`.
 * Enough to know the longest gap between two runs, which bounds how much
 * data a failure loses (the RPO) and how short a retention may be.
 */

const FIELDS = [
  { name: 'minute', min: 0, max: 59 },
  { name: 'hour', min: 0, max: 23 },
  { name: 'day of month', min: 1, max: 31 },
  { name: 'month', min: 1, max: 12 },
  { name: 'day of week', min: 0, max: 7 },
] as const;

interface Schedule {
  readonly sets: readonly ReadonlySet<number>[];
  /** Day of month and day of week both restricted: cron runs when either matches. */
  readonly eitherDay: boolean;
}

/** Parses `cron`; throws an Error naming the field that is wrong. */
export function parseCron(cron: string): Schedule {
  const parts = cron.trim().split(/\s+/);
  if (parts.length !== 5) throw new Error(`"${cron}" is not a five-field cron expression such as "0 3 * * *"`);
  const sets = parts.map((part, index) => {
    const field = FIELDS[index]!;
    const values = new Set<number>();
    for (const item of part.split(',')) {
      const match = /^(\*|(\d+)(?:-(\d+))?)(?:\/(\d+))?$/.exec(item);
      if (!match) throw new Error(`"${cron}": ${field.name} "${item}" must be *, a number, a range a-b or a list, optionally /step`);
      const from = match[1] === '*' ? field.min : Number(match[2]);
      const to = match[1] === '*' ? field.max : match[3] !== undefined ? Number(match[3]) : match[4] !== undefined ? field.max : from;
      const step = match[4] !== undefined ? Number(match[4]) : 1;
      if (from < field.min || to > field.max || from > to || step < 1) {
        throw new Error(`"${cron}": ${field.name} "${item}" must stay within ${field.min}-${field.max}`);
      }
      for (let value = from; value <= to; value += step) values.add(index === 4 && value === 7 ? 0 : value);
    }
    return values;
  });
  return { sets, eitherDay: parts[2] !== '*' && parts[4] !== '*' };
}

/**
 * The longest time between two consecutive runs, in minutes, over a
 * four-year window (every month length and weekday combination occurs).
 */
export function maxCronIntervalMinutes(cron: string): number {
  return cronGapsMinutes(cron).longest;
}

/** The shortest time between two consecutive runs, in minutes: how often the job can load the system. */
export function minCronIntervalMinutes(cron: string): number {
  return cronGapsMinutes(cron).shortest;
}

function cronGapsMinutes(cron: string): { readonly shortest: number; readonly longest: number } {
  const { sets, eitherDay } = parseCron(cron);
  const [minutes, hours, days, months, weekdays] = sets as [ReadonlySet<number>, ReadonlySet<number>, ReadonlySet<number>, ReadonlySet<number>, ReadonlySet<number>];
  // Every run day has the same runs (minute of the day, ascending): their gaps are counted once, not once a day
  // (`* * * * *` was 2 million steps; a second under Jest, whose sandbox makes each global lookup in a loop slow).
  const times = [...hours].sort((a, b) => a - b).flatMap((hour) => [...minutes].sort((a, b) => a - b).map((minute) => hour * 60 + minute));
  let withinDayShortest = Infinity;
  let withinDayLongest = 0;
  for (let index = 1; index < times.length; index++) {
    const gap = times[index]! - times[index - 1]!;
    if (gap < withinDayShortest) withinDayShortest = gap;
    if (gap > withinDayLongest) withinDayLongest = gap;
  }
  let previous: number | undefined;
  let longest = 0;
  let shortest = Infinity;
  const start = Date.UTC(2024, 0, 1);
  for (let day = 0; day < 4 * 366; day++) {
    const date = new Date(start + day * 86_400_000);
    if (!months.has(date.getUTCMonth() + 1)) continue;
    const dayOfMonth = days.has(date.getUTCDate());
    const dayOfWeek = weekdays.has(date.getUTCDay());
    if (!(eitherDay ? dayOfMonth || dayOfWeek : dayOfMonth && dayOfWeek)) continue;
    if (previous !== undefined) {
      const gap = day * 1440 + times[0]! - previous;
      longest = Math.max(longest, gap);
      shortest = Math.min(shortest, gap);
    }
    if (times.length > 1) {
      longest = Math.max(longest, withinDayLongest);
      shortest = Math.min(shortest, withinDayShortest);
    }
    previous = day * 1440 + times[times.length - 1]!;
  }
  if (previous === undefined || longest === 0) throw new Error(`"${cron}" never runs twice in four years`);
  return { shortest, longest };
}
