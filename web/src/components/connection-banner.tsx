// The banner that says the API cannot be reached, in plain words (never what the browser says). It is an alert, so a screen reader hears it once when
// it appears; it takes no room while the API answers, and its space is never needed before the first try.

import type { Connection } from "../use-number";

export function ConnectionBanner({
  connection,
  baseUrl,
}: {
  readonly connection: Connection;
  readonly baseUrl: string;
}) {
  return (
    <div role="alert" className="banner-slot">
      {connection.kind === "unreachable" ? (
        <div className="banner" data-testid="unreachable-banner">
          <strong>The API cannot be reached.</strong>
          {connection.reason === null ? "" : ` ${capitalize(connection.reason)}.`} Trying again every second
          {baseUrl === "" ? "" : ` at ${baseUrl}`}; the number shown is the last one known, and the commands
          wait until it answers.
        </div>
      ) : null}
    </div>
  );
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
