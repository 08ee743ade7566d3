import { fmtLift } from '../format';
import { useWidth } from '../hooks';

export interface Interval {
  /** Row label: the metric, and the treatment when there are several. */
  readonly label: string;
  readonly sub?: string;
  readonly estimate: number;
  readonly low: number;
  readonly high: number;
  readonly tone: 'good' | 'bad' | 'neutral';
}

const TONE = { good: '#16a34a', bad: '#dc2626', neutral: '#2563eb' } as const;

function niceStep(span: number): number {
  const raw = span / 5;
  const power = 10 ** Math.floor(Math.log10(raw));
  const unit = raw / power;
  return (unit < 1.5 ? 1 : unit < 3.5 ? 2 : unit < 7.5 ? 5 : 10) * power;
}

/**
 * A forest plot: one row per metric (× treatment), the relative lift as a dot and its interval as a line,
 * against a dashed line at no change. SVG, so it stays crisp and each row carries a tooltip.
 */
export function Forest(props: { rows: readonly Interval[] }) {
  const [holder, measured] = useWidth<HTMLDivElement>(720);
  const rows = props.rows.filter((r) => [r.estimate, r.low, r.high].every(Number.isFinite));
  const width = Math.max(420, measured);
  const labelWidth = Math.min(260, Math.round(width * 0.26));
  const valueWidth = 170;
  const rowHeight = 30;
  const top = 8;
  const axisHeight = 26;
  const plotLeft = labelWidth;
  const plotRight = width - valueWidth;
  const height = top + rows.length * rowHeight + axisHeight;
  let min = Math.min(0, ...rows.map((r) => r.low));
  let max = Math.max(0, ...rows.map((r) => r.high));
  if (max - min < 1e-9) {
    min -= 0.05;
    max += 0.05;
  }
  const pad = (max - min) * 0.08;
  min -= pad;
  max += pad;
  const step = niceStep(max - min);
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step) * step; t <= max + 1e-12; t += step)
    ticks.push(Math.abs(t) < 1e-12 ? 0 : t);
  const x = (v: number) => plotLeft + ((v - min) / (max - min)) * (plotRight - plotLeft);
  const digits = step >= 0.01 ? 0 : 1;
  return (
    <div ref={holder}>
      <svg
        class="forest"
        viewBox={`0 0 ${width} ${height}`}
        width={width}
        height={height}
        role="img"
        aria-label="relative lift with its interval per metric"
      >
        {ticks.map((t) => (
          <g key={t}>
            <line x1={x(t)} x2={x(t)} y1={top} y2={height - axisHeight} class="forest-grid" />
            <text x={x(t)} y={height - 8} class="forest-tick">
              {fmtLift(t, digits)}
            </text>
          </g>
        ))}
        <line x1={x(0)} x2={x(0)} y1={top - 4} y2={height - axisHeight} class="forest-zero" />
        {rows.map((row, i) => {
          const y = top + i * rowHeight + rowHeight / 2;
          const color = TONE[row.tone];
          return (
            <g key={`${row.label}-${row.sub ?? ''}`} class="forest-row">
              <title>{`${row.label}${row.sub ? ` (${row.sub})` : ''}: ${fmtLift(row.estimate)} [${fmtLift(row.low)}, ${fmtLift(row.high)}]`}</title>
              <rect x={0} y={y - rowHeight / 2} width={width} height={rowHeight} class="forest-hit" />
              <text x={0} y={y + 4} class="forest-label">
                {row.label}
                {row.sub !== undefined ? <tspan class="forest-sub"> {row.sub}</tspan> : null}
              </text>
              <line
                x1={x(row.low)}
                x2={x(row.high)}
                y1={y}
                y2={y}
                stroke={color}
                stroke-width={2.5}
                stroke-linecap="round"
              />
              <line x1={x(row.low)} x2={x(row.low)} y1={y - 5} y2={y + 5} stroke={color} stroke-width={1.5} />
              <line
                x1={x(row.high)}
                x2={x(row.high)}
                y1={y - 5}
                y2={y + 5}
                stroke={color}
                stroke-width={1.5}
              />
              <circle cx={x(row.estimate)} cy={y} r={5} fill={color} />
              <text x={width} y={y + 4} class="forest-value">
                {fmtLift(row.estimate)}{' '}
                <tspan class="forest-sub">
                  [{fmtLift(row.low)}, {fmtLift(row.high)}]
                </tspan>
              </text>
            </g>
          );
        })}
      </svg>
    </div>
  );
}
