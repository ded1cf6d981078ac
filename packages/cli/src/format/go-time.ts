/**
 * Go's `time.Time.String()` for whole-second times (`time.Unix(t, 0).String()`), which
 * docker prints in `images --format '{{.CreatedAt}}'`: `2024-05-01 12:00:00 +0000 UTC`,
 * in the local time zone with its abbreviation.
 */
export function goTimeString(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  const offsetMin = -date.getTimezoneOffset();
  const local = new Date(Math.floor(date.getTime() / 1000) * 1000 + offsetMin * 60_000);
  const base =
    `${local.getUTCFullYear()}-${pad(local.getUTCMonth() + 1)}-${pad(local.getUTCDate())} ` +
    `${pad(local.getUTCHours())}:${pad(local.getUTCMinutes())}:${pad(local.getUTCSeconds())}`;
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  const offset = `${sign}${pad(Math.trunc(abs / 60))}${pad(abs % 60)}`;
  return `${base} ${offset} ${zoneName(date, offsetMin)}`;
}

/** The zone abbreviation Go prints: `UTC`, `CET`, or the numeric offset when none is known. */
function zoneName(date: Date, offsetMin: number): string {
  const name = new Intl.DateTimeFormat("en-US", { timeZoneName: "short" })
    .formatToParts(date)
    .find((p) => p.type === "timeZoneName")?.value;
  if (offsetMin === 0 && (!name || name === "GMT" || name === "UTC")) return "UTC";
  if (name && !/^GMT[+-]/.test(name)) return name;
  // Go prints the numeric offset (`+03`, `+0530`) for zones without an abbreviation.
  const sign = offsetMin < 0 ? "-" : "+";
  const abs = Math.abs(offsetMin);
  const h = String(Math.trunc(abs / 60)).padStart(2, "0");
  return abs % 60 === 0 ? `${sign}${h}` : `${sign}${h}${String(abs % 60).padStart(2, "0")}`;
}
