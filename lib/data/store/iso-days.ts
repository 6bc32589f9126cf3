/** Calendar days as the store counts them (days since 1970-01-01, UTC) and as users write them (yyyy-mm-dd). */
import { InvalidArgumentError } from '../../errors.js';

const DAY_MS = 86_400_000;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;

export function dayToIso(day: number): string {
  return new Date(day * DAY_MS).toISOString().slice(0, 10);
}

/** Rejects anything but a real calendar day in yyyy-mm-dd (Date.parse would roll 2001-02-30 over to March). */
export function checkIsoDate(s: string, name: string): void {
  const ms = Date.parse(`${s}T00:00:00Z`);
  if (!ISO_DATE.test(s) || Number.isNaN(ms) || dayToIso(ms / DAY_MS) !== s) {
    throw new InvalidArgumentError(`${name}: '${s}' is not an ISO date yyyy-mm-dd`, name);
  }
}
