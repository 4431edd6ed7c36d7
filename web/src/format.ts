// How numbers and times read on screen. One place, so the number, the table and the chart agree.

const integerFormat = new Intl.NumberFormat("en-US");

/** 1000000000 → "1,000,000,000". */
export function formatInteger(value: number): string {
  return integerFormat.format(value);
}

const dateTimeFormat = new Intl.DateTimeFormat(undefined, {
  year: "numeric",
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

const timeFormat = new Intl.DateTimeFormat(undefined, {
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** The date and time of an ISO 8601 instant, in the reader's time zone. */
export function formatDateTime(iso: string): string {
  return dateTimeFormat.format(new Date(iso));
}

const shortDateTimeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short",
  day: "numeric",
  hour: "2-digit",
  minute: "2-digit",
  second: "2-digit",
});

/** The time of day of an event today; the day too when it happened on another day. */
export function formatEventTime(iso: string, now: Date): string {
  const at = new Date(iso);
  return at.toDateString() === now.toDateString() ? timeFormat.format(at) : shortDateTimeFormat.format(at);
}

/** "+1" or "−1", with a true minus sign. */
export function formatDelta(delta: number): string {
  return delta >= 0 ? `+${delta}` : `\u2212${Math.abs(delta)}`;
}
