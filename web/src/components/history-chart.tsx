// A small line chart of the value after each event shown in the history table, oldest on the left.
// Plain SVG, no library: the line is drawn in a fixed coordinate space stretched to the card's width,
// with `vector-effect: non-scaling-stroke` so the stroke keeps its thickness. Labels stay HTML text.
// It must describe itself in words too (role="img" with a label), for people who cannot see it.

import type { HistoryEntry } from "../api";
import { formatInteger } from "../format";

const WIDTH = 600;
const HEIGHT = 140;
/** Room above and below the line, so the stroke and the end dot are never cut by the edge. */
const PADDING_Y = 12;

export function HistoryChart({ entries }: { readonly entries: readonly HistoryEntry[] }) {
  const chronological = [...entries].sort((first, second) => first.version - second.version);
  const first = chronological[0];
  const last = chronological[chronological.length - 1];

  if (first === undefined || last === undefined) {
    return (
      <div className="chart chart-empty">
        <p>The chart appears with the first event.</p>
      </div>
    );
  }

  const values = chronological.map((entry) => entry.valueAfter);
  const lowest = Math.min(...values);
  const highest = Math.max(...values);
  const span = highest - lowest;
  const points = chronological.map((entry, index) => {
    const x = chronological.length === 1 ? WIDTH / 2 : (index / (chronological.length - 1)) * WIDTH;
    const y =
      span === 0
        ? HEIGHT / 2
        : PADDING_Y + (1 - (entry.valueAfter - lowest) / span) * (HEIGHT - 2 * PADDING_Y);
    return { x, y };
  });
  const line = points.map((point) => `${point.x.toFixed(1)},${point.y.toFixed(1)}`).join(" ");
  const area = `M0,${HEIGHT} L${line.replaceAll(" ", " L")} L${WIDTH},${HEIGHT} Z`;
  const end = points[points.length - 1]!;
  const description =
    chronological.length === 1
      ? `Value after version ${first.version}: ${formatInteger(first.valueAfter)}.`
      : `Value from ${formatInteger(first.valueAfter)} at version ${first.version} to ${formatInteger(last.valueAfter)} at version ${last.version}, between ${formatInteger(lowest)} and ${formatInteger(highest)}.`;

  return (
    <figure className="chart">
      <div className="chart-scale" aria-hidden="true">
        <span>{formatInteger(highest)}</span>
        <span>{formatInteger(lowest)}</span>
      </div>
      <svg
        className="chart-plot"
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={description}
        data-testid="history-chart"
      >
        <defs>
          <linearGradient id="chart-fill" x1="0" y1="0" x2="0" y2="1">
            <stop offset="0%" className="chart-fill-top" />
            <stop offset="100%" className="chart-fill-bottom" />
          </linearGradient>
        </defs>
        <line className="chart-grid" x1="0" y1={PADDING_Y} x2={WIDTH} y2={PADDING_Y} />
        <line className="chart-grid" x1="0" y1={HEIGHT - PADDING_Y} x2={WIDTH} y2={HEIGHT - PADDING_Y} />
        {chronological.length > 1 ? <path className="chart-area" d={area} /> : null}
        {chronological.length > 1 ? <polyline className="chart-line" points={line} /> : null}
        {/* A zero-length line with round caps: a dot that stays round however the plot is stretched. */}
        <line className="chart-dot" x1={end.x} y1={end.y} x2={end.x} y2={end.y} />
      </svg>
      <figcaption className="chart-axis" aria-hidden="true">
        <span>version {first.version}</span>
        <span>version {last.version}</span>
      </figcaption>
    </figure>
  );
}
