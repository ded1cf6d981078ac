/**
 * Durations as docker prints them: go-units' `HumanDuration`, used as `<duration> ago` in
 * the CREATED columns of `docker images` and `docker history`.
 */

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * A duration in milliseconds as go-units' `HumanDuration` words it: `Less than a second`,
 * `1 second`, `37 seconds`, `About a minute`, `12 minutes`, `About an hour`, `5 hours`,
 * `3 days`, `2 weeks`, `4 months`, `2 years`.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / SECOND);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.trunc(ms / MINUTE);
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  // Go's math.Round rounds halves away from zero; durations here are positive.
  const hours = Math.round(ms / HOUR);
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.trunc(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.trunc(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.trunc(hours / 24 / 30)} months`;
  return `${Math.trunc(Math.trunc(ms / HOUR) / 24 / 365)} years`;
}

/**
 * docker's CREATED column: `HumanDuration(now - created) + " ago"`. Go computes it from
 * whole seconds (`time.Unix(created, 0)`), so sub-second parts of `created` are dropped.
 */
export function createdSince(created: Date, now: Date = new Date()): string {
  const createdSec = Math.floor(created.getTime() / 1000) * 1000;
  return `${humanDuration(now.getTime() - createdSec)} ago`;
}

/**
 * Go's `time.Unix(t, 0).Format(time.RFC3339)` in the local zone: `2024-05-01T10:20:30Z`
 * in UTC, `2024-05-01T12:20:30+02:00` elsewhere (history's CREATED AT column).
 */
export function rfc3339(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const offsetMin = -date.getTimezoneOffset();
  const base =
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  if (offsetMin === 0) return `${base}Z`;
  const sign = offsetMin > 0 ? "+" : "-";
  const abs = Math.abs(offsetMin);
  return `${base}${sign}${pad(Math.trunc(abs / 60))}:${pad(abs % 60)}`;
}
