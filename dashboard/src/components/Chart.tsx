import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export const PALETTE = [
  '#2563eb',
  '#ea580c',
  '#16a34a',
  '#9333ea',
  '#dc2626',
  '#0d9488',
  '#d97706',
  '#db2777',
];

export function colorAt(index: number): string {
  return PALETTE[index % PALETTE.length] ?? '#2563eb';
}

export interface Line {
  readonly label: string;
  readonly values: readonly (number | null)[];
  readonly color?: string;
  /** Drawn as a dashed line (a bound or a reference). */
  readonly dashed?: boolean;
  /** Shade between this line and the one at `fillTo` (an interval). */
  readonly fillTo?: number;
  /** Not drawn as a line, only used as a band edge and shown in the tooltip. */
  readonly hidden?: boolean;
  /** Bars instead of a line. */
  readonly bars?: boolean;
}

export interface ChartProps {
  /** x values: seconds since the epoch for a time axis, or plain numbers with `xLabel`. */
  readonly x: readonly number[];
  readonly lines: readonly Line[];
  readonly height?: number;
  readonly time?: boolean;
  readonly xLabel?: string;
  readonly yLabel?: string;
  readonly formatY?: (value: number) => string;
  readonly formatX?: (value: number) => string;
  /** A horizontal reference line (0 for a lift). */
  readonly zeroLine?: boolean;
  readonly yRange?: readonly [number, number];
  /** Ticks exactly at these x values (versions, categories), the x range padded by half a step. */
  readonly xTicks?: readonly number[];
  readonly testId?: string;
}

const AXIS_FONT = '11px Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';
const LABEL_FONT = '600 11px Inter, system-ui, -apple-system, "Segoe UI", Roboto, sans-serif';

/** A floating box by the cursor with x and every series' value (uPlot's own legend is off). */
function tooltipPlugin(props: ChartProps): uPlot.Plugin {
  let box: HTMLDivElement;
  const fx =
    props.formatX ?? ((v: number) => (props.time === true ? new Date(v * 1000).toLocaleString() : String(v)));
  const fy = props.formatY ?? ((v: number) => v.toLocaleString());
  return {
    hooks: {
      init: (u) => {
        box = document.createElement('div');
        box.className = 'chart-tip';
        box.style.display = 'none';
        u.over.appendChild(box);
        u.over.addEventListener('mouseleave', () => (box.style.display = 'none'));
      },
      setCursor: (u) => {
        const idx = u.cursor.idx;
        const left = u.cursor.left ?? -1;
        const top = u.cursor.top ?? -1;
        if (idx === null || idx === undefined || left < 0) {
          box.style.display = 'none';
          return;
        }
        const xValue = u.data[0][idx];
        box.replaceChildren();
        const head = document.createElement('div');
        head.className = 'chart-tip-head';
        head.textContent = xValue === undefined ? '' : fx(xValue);
        box.appendChild(head);
        props.lines.forEach((line, i) => {
          const value = u.data[i + 1]?.[idx];
          const row = document.createElement('div');
          row.className = 'chart-tip-row';
          const swatch = document.createElement('i');
          swatch.style.background = line.color ?? colorAt(i);
          const name = document.createElement('span');
          name.textContent = line.label;
          const number = document.createElement('b');
          number.textContent = value === null || value === undefined ? '—' : fy(value);
          row.append(swatch, name, number);
          box.appendChild(row);
        });
        box.style.display = 'block';
        const width = u.over.clientWidth;
        const boxWidth = box.offsetWidth;
        box.style.left = `${left + 12 + boxWidth > width ? Math.max(0, left - boxWidth - 12) : left + 12}px`;
        box.style.top = `${Math.max(0, Math.min(top, u.over.clientHeight - box.offsetHeight))}px`;
      },
    },
  };
}

function options(props: ChartProps, width: number): uPlot.Options {
  const fy = props.formatY;
  const axisStyle = {
    stroke: '#64748b',
    font: AXIS_FONT,
    labelFont: LABEL_FONT,
    grid: { stroke: '#eef1f5', width: 1 },
    ticks: { stroke: '#e2e8f0', width: 1, size: 4 },
  };
  const bands: uPlot.Band[] = [];
  props.lines.forEach((line, i) => {
    if (line.fillTo !== undefined) {
      // uPlot fills from the upper series down to the lower one.
      bands.push({ series: [line.fillTo + 1, i + 1], fill: `${line.color ?? colorAt(i)}1f` });
    }
  });
  const bars = uPlot.paths.bars?.({ size: [0.7, 40] });
  return {
    width,
    height: props.height ?? 220,
    legend: { show: false },
    cursor: { points: { size: 7 }, drag: { x: false, y: false } },
    padding: [12, 12, 0, 0],
    scales: {
      x:
        props.xTicks !== undefined && props.xTicks.length > 0
          ? {
              time: false,
              range: [Math.min(...props.xTicks) - 0.5, Math.max(...props.xTicks) + 0.5] as [number, number],
            }
          : props.x.length === 1
            ? {
                // One point: a day (or one unit) either side, rather than uPlot's guess of years.
                time: props.time === true,
                range: [
                  props.x[0]! - (props.time === true ? 43_200 : 1),
                  props.x[0]! + (props.time === true ? 43_200 : 1),
                ] as [number, number],
              }
            : props.lines.some((l) => l.bars === true) && props.x.length > 1
              ? {
                  // Half a step of room at each end, so the first and last bars are whole.
                  time: props.time === true,
                  range: [
                    props.x[0]! - (props.x[1]! - props.x[0]!) / 2,
                    props.x[props.x.length - 1]! + (props.x[1]! - props.x[0]!) / 2,
                  ] as [number, number],
                }
              : { time: props.time === true },
      y: props.yRange ? { range: [props.yRange[0], props.yRange[1]] } : { auto: true },
    },
    bands,
    axes: [
      {
        ...axisStyle,
        ...(props.xLabel !== undefined ? { label: props.xLabel, labelSize: 20 } : {}),
        ...(props.xTicks !== undefined ? { splits: () => [...props.xTicks!] } : {}),
        ...(props.formatX !== undefined && props.time !== true
          ? { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => props.formatX!(t)) }
          : {}),
      },
      {
        ...axisStyle,
        size: 56,
        ...(props.yLabel !== undefined ? { label: props.yLabel, labelSize: 18 } : {}),
        ...(fy !== undefined ? { values: (_u: uPlot, ticks: number[]) => ticks.map((t) => fy(t)) } : {}),
      },
    ],
    series: [
      {},
      ...props.lines.map((line, i): uPlot.Series => {
        const color = line.color ?? colorAt(i);
        return {
          label: line.label,
          stroke: line.hidden === true ? 'transparent' : color,
          width: line.hidden === true ? 0 : line.bars === true ? 1 : 2,
          ...(line.bars === true && bars !== undefined ? { paths: bars, fill: `${color}cc` } : {}),
          ...(line.dashed === true ? { dash: [5, 4], width: 1.5 } : {}),
          points: { show: line.hidden !== true && line.bars !== true && props.x.length < 40, size: 5 },
          spanGaps: true,
        };
      }),
    ],
    hooks: props.zeroLine
      ? {
          draw: [
            (u) => {
              const y = u.valToPos(0, 'y', true);
              if (!Number.isFinite(y) || y < u.bbox.top || y > u.bbox.top + u.bbox.height) return;
              const ctx = u.ctx;
              ctx.save();
              ctx.strokeStyle = '#94a3b8';
              ctx.lineWidth = 1;
              ctx.setLineDash([3, 3]);
              ctx.beginPath();
              ctx.moveTo(u.bbox.left, y);
              ctx.lineTo(u.bbox.left + u.bbox.width, y);
              ctx.stroke();
              ctx.restore();
            },
          ],
        }
      : {},
    plugins: [tooltipPlugin(props)],
  };
}

/** A uPlot line (or bar) chart sized to its container, with axes, labels and a hover tooltip. */
export function Chart(props: ChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  // Redrawn only when what it shows changes: pages that poll re-render with equal data every few seconds.
  const signature = JSON.stringify([
    props.x,
    props.lines,
    props.height,
    props.yLabel,
    props.xLabel,
    props.yRange,
    props.xTicks,
  ]);
  useEffect(() => {
    const element = holder.current;
    if (element === null) return;
    const data = [props.x as number[], ...props.lines.map((l) => l.values as (number | null)[])];
    const plot = new uPlot(
      options(props, Math.max(200, element.clientWidth)),
      data as uPlot.AlignedData,
      element,
    );
    const observer = new ResizeObserver(() => {
      const width = Math.max(200, element.clientWidth);
      if (Math.abs(width - plot.width) > 1) plot.setSize({ width, height: props.height ?? 220 });
    });
    observer.observe(element);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [signature]);
  return (
    <div class="chart">
      {props.lines.filter((l) => l.hidden !== true).length > 1 ? (
        <div class="chart-legend">
          {props.lines.map((line, i) =>
            line.hidden === true ? null : (
              <span key={line.label}>
                <i
                  style={{ background: line.color ?? colorAt(i) }}
                  class={line.dashed === true ? 'dashed' : ''}
                />
                {line.label}
              </span>
            ),
          )}
        </div>
      ) : null}
      <div class="chart-plot" ref={holder} data-testid={props.testId} />
    </div>
  );
}
