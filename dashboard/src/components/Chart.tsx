/**
 * A uPlot line chart, loaded on first use so the Today page does not pay for it. The canvas is described by its
 * label and the table beside it carries every number (the chart is a glance, never the only way to read the data).
 * Series differ by dash pattern and point shape as well as colour.
 */
import { useEffect, useRef } from 'preact/hooks';
import type uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

// Okabe–Ito colours (safe for the common colour-vision deficiencies), each with its own dash.
const COLOURS = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000'];
const DASHES = [[], [8, 4], [2, 3], [12, 3, 3, 3], [4, 4], [1, 6], [16, 6]];

export function Chart({
  label,
  times,
  series,
  yLabel,
}: {
  label: string;
  /** Seconds since the epoch. */
  times: number[];
  series: ChartSeries[];
  yLabel: string;
}) {
  const host = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let plot: uPlot | undefined;
    let cancelled = false;
    void Promise.all([import('uplot'), import('uplot/dist/uPlot.min.css')]).then(([{ default: UPlot }]) => {
      const el = host.current;
      if (cancelled || !el) return;
      const width = Math.max(280, el.clientWidth || 600);
      plot = new UPlot(
        {
          width,
          height: 260,
          scales: { y: { range: [0, 100] } },
          axes: [{}, { label: yLabel, values: (_u, ticks) => ticks.map((t) => `${t}%`) }],
          series: [
            {},
            ...series.map((s, i) => ({
              label: s.label,
              stroke: COLOURS[i % COLOURS.length] as string,
              dash: DASHES[i % DASHES.length] as number[],
              width: 2,
              spanGaps: true,
              points: { show: true, size: 6 + (i % 3) * 2 },
            })),
          ],
        },
        [times, ...series.map((s) => s.values)] as uPlot.AlignedData,
        el,
      );
    });
    return () => {
      cancelled = true;
      plot?.destroy();
    };
  }, [times, series, yLabel]);
  return <div ref={host} class="chart" role="img" aria-label={label} />;
}
