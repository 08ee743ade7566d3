/**
 * What each matching record added to a user's value after exposure, and on which day: the raw material of
 * the daily series (`series.ts`). Only records that change a value are kept (a small share of the events:
 * purchases, clicks, served lists), in three typed columns that grow by doubling — no object per record.
 */
export class ContributionLog {
  users: Int32Array;
  /** Day of the record, counted from the user's entry day (their first exposure's day) in the series. */
  days: Uint16Array;
  values: Float64Array;
  length = 0;

  constructor(capacity = 1024) {
    this.users = new Int32Array(capacity);
    this.days = new Uint16Array(capacity);
    this.values = new Float64Array(capacity);
  }

  push(user: number, day: number, value: number): void {
    if (this.length === this.users.length) this.grow();
    const at = this.length++;
    this.users[at] = user;
    this.days[at] = day;
    this.values[at] = value;
  }

  private grow(): void {
    const capacity = this.users.length * 2;
    const users = new Int32Array(capacity);
    users.set(this.users);
    const days = new Uint16Array(capacity);
    days.set(this.days);
    const values = new Float64Array(capacity);
    values.set(this.values);
    this.users = users;
    this.days = days;
    this.values = values;
  }
}

/** A log regrouped by user: user `u`'s records are `[start[u], start[u + 1])` of `days` and `values`. */
export interface ContributionsByUser {
  readonly start: Int32Array;
  readonly days: Uint16Array;
  readonly values: Float64Array;
}

/** Groups a log by user with a counting sort (linear; records keep their order within a user). */
export function groupByUser(log: ContributionLog, users: number): ContributionsByUser {
  const start = new Int32Array(users + 1);
  for (let i = 0; i < log.length; i++) start[log.users[i]! + 1]!++;
  for (let u = 0; u < users; u++) start[u + 1]! += start[u]!;
  const next = start.slice(0, users);
  const days = new Uint16Array(log.length);
  const values = new Float64Array(log.length);
  for (let i = 0; i < log.length; i++) {
    const at = next[log.users[i]!]!++;
    days[at] = log.days[i]!;
    values[at] = log.values[i]!;
  }
  return { start, days, values };
}
