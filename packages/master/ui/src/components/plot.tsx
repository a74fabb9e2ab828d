/**
 * A time-series plot (uPlot on a canvas). The container carries `data-samples` (points per line)
 * and `data-series` (lines) so that tests and curious users can see what is drawn.
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import type { PlotColumns } from '../utilization.js';

/** Line colours readable on both light and dark backgrounds; total first, allocated second. */
const COLOURS = ['#8a8f98', '#3b82f6', '#f59e0b', '#10b981', '#ef4444', '#a855f7', '#ec4899', '#14b8a6'];

export interface PlotProps {
  title: string;
  columns: PlotColumns;
  /** Formats a y value for the axis and legend. */
  format: (v: number) => string;
  height?: number;
  testId?: string;
}

export function Plot({ title, columns, format, height = 220, testId }: PlotProps) {
  const box = useRef<HTMLDivElement>(null);
  const chart = useRef<uPlot | null>(null);
  const shape = columns.series.map((s) => s.label).join('\u0000');
  const data = [columns.x, ...columns.series.map((s) => s.values)] as uPlot.AlignedData;

  // (Re)build the chart when the set of lines changes (a new role appears).
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 300),
      height,
      legend: { live: true },
      cursor: { drag: { x: false, y: false } },
      scales: { y: { range: (_u, _min, max) => [0, max > 0 ? max * 1.1 : 1] } },
      axes: [
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' } },
        { stroke: 'currentColor', grid: { stroke: 'rgba(128,128,128,0.2)' }, ticks: { stroke: 'rgba(128,128,128,0.3)' }, values: (_u, vals) => vals.map(format), size: 70 },
      ],
      series: [
        {},
        ...columns.series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          width: i === 0 ? 1.5 : 2,
          dash: i === 0 ? [6, 4] : undefined,
          fill: i === 1 ? 'rgba(59,130,246,0.12)' : undefined,
          spanGaps: false,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : format(v)),
        })),
      ],
    };
    const u = new uPlot(opts, data, el);
    chart.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(el.clientWidth, 300), height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      chart.current = null;
    };
  }, [shape, height]);

  useEffect(() => {
    chart.current?.setData(data);
  });

  return (
    <figure class="plot">
      <figcaption>{title}</figcaption>
      <div ref={box} class="plot-canvas" data-testid={testId} data-samples={columns.x.length} data-series={columns.series.length} />
    </figure>
  );
}
