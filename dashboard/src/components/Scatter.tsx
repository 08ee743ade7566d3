import { useWidth } from '../hooks';
import { colorAt } from './Chart';

export interface ScatterPoint {
  readonly x: number;
  readonly y: number;
  readonly group: string;
  readonly label: string;
}

function ticks(min: number, max: number): number[] {
  const span = max - min || 1;
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  const step = (unit < 1.5 ? 1 : unit < 3.5 ? 2 : unit < 7.5 ? 5 : 10) * power;
  const out: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + 1e-12; t += step)
    out.push(Math.abs(t) < 1e-12 ? 0 : t);
  return out;
}

/** The 1st to 99th percentile of the values, padded by 5% (a unit around a single value). */
function span(values: readonly number[]): readonly [number, number] {
  if (values.length === 0) return [-1, 1];
  const sorted = [...values].sort((a, b) => a - b);
  const lo = sorted[Math.floor((sorted.length - 1) * 0.01)]!;
  const hi = sorted[Math.ceil((sorted.length - 1) * 0.99)]!;
  const d = (hi - lo || 1) * 0.05;
  return [lo - d, hi + d];
}

/**
 * A 2-D scatter of points coloured by group, group centres as labelled crosses; SVG, each point with a
 * tooltip naming it. `groups` fixes the colour order so the table and the plot agree.
 */
export function Scatter(props: {
  points: readonly ScatterPoint[];
  centres: readonly { group: string; x: number; y: number }[];
  groups: readonly string[];
  xLabel: string;
  yLabel: string;
  onPick?: (label: string) => void;
}) {
  const [holder, measured] = useWidth<HTMLDivElement>(640);
  const width = Math.max(320, measured);
  const height = Math.round(Math.min(420, Math.max(280, width * 0.62)));
  const margin = { left: 44, right: 12, top: 10, bottom: 36 };
  // The axes span the bulk of the points (1st to 99th percentile): one far-off user, or the centre of a
  // segment of one, would otherwise squeeze everyone else into a line. What lies beyond is drawn on the
  // edge, hollow, its tooltip giving where it really is.
  const [x0, x1] = span(props.points.map((p) => p.x));
  const [y0, y1] = span(props.points.map((p) => p.y));
  const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
  const outside = (x: number, y: number) => x < x0 || x > x1 || y < y0 || y > y1;
  const sx = (v: number) =>
    margin.left + ((clamp(v, x0, x1) - x0) / (x1 - x0)) * (width - margin.left - margin.right);
  const sy = (v: number) =>
    height - margin.bottom - ((clamp(v, y0, y1) - y0) / (y1 - y0)) * (height - margin.top - margin.bottom);
  const at = (x: number, y: number) => `(${x.toFixed(1)}, ${y.toFixed(1)})`;
  const color = (group: string) => colorAt(Math.max(0, props.groups.indexOf(group)));
  return (
    <div ref={holder}>
      <svg
        class="scatter"
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-label="users on two axes"
      >
        {ticks(x0, x1).map((t) => (
          <g key={`x${t}`}>
            <line x1={sx(t)} x2={sx(t)} y1={margin.top} y2={height - margin.bottom} class="forest-grid" />
            <text x={sx(t)} y={height - margin.bottom + 14} class="scatter-label" text-anchor="middle">
              {t.toFixed(1)}
            </text>
          </g>
        ))}
        {ticks(y0, y1).map((t) => (
          <g key={`y${t}`}>
            <line x1={margin.left} x2={width - margin.right} y1={sy(t)} y2={sy(t)} class="forest-grid" />
            <text x={margin.left - 6} y={sy(t) + 4} class="scatter-label" text-anchor="end">
              {t.toFixed(1)}
            </text>
          </g>
        ))}
        <text x={(width + margin.left) / 2} y={height - 4} class="scatter-label" text-anchor="middle">
          {props.xLabel}
        </text>
        <text
          x={12}
          y={(height - margin.bottom) / 2}
          class="scatter-label"
          text-anchor="middle"
          transform={`rotate(-90 12 ${(height - margin.bottom) / 2})`}
        >
          {props.yLabel}
        </text>
        {props.points.map((p) => (
          <circle
            key={p.label}
            class="pt"
            cx={sx(p.x)}
            cy={sy(p.y)}
            r={3.2}
            fill={outside(p.x, p.y) ? '#fff' : color(p.group)}
            stroke={outside(p.x, p.y) ? color(p.group) : undefined}
            onClick={() => props.onPick?.(p.label)}
            style={props.onPick ? { cursor: 'pointer' } : undefined}
          >
            <title>{`${p.label} · ${p.group}${outside(p.x, p.y) ? ` · off the chart at ${at(p.x, p.y)}` : ''}`}</title>
          </circle>
        ))}
        {props.centres.map((c) => (
          <g key={`c-${c.group}`}>
            <title>{`centre of ${c.group}${outside(c.x, c.y) ? `, off the chart at ${at(c.x, c.y)}` : ''}`}</title>
            <circle
              cx={sx(c.x)}
              cy={sy(c.y)}
              r={8}
              fill="#fff"
              stroke={color(c.group)}
              stroke-width={2.5}
              stroke-dasharray={outside(c.x, c.y) ? '3 2' : undefined}
            />
            <text x={sx(c.x) + 11} y={sy(c.y) + 4} class="scatter-centre">
              {c.group}
            </text>
          </g>
        ))}
      </svg>
    </div>
  );
}
