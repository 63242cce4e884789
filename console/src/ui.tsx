import type { ComponentChildren } from 'preact';
import { useEffect, useId, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** Runs `load` now and every `ms` (while the tab is visible); runs again when `deps` change. */
export function usePoll(load: () => Promise<void> | void, ms: number, deps: unknown[]): void {
  const latest = useRef(load);
  latest.current = load;
  useEffect(() => {
    let stopped = false;
    let timer: number | undefined;
    const tick = async () => {
      if (!document.hidden) {
        try {
          await latest.current();
        } catch {
          // the page shows its own error; polling goes on
        }
      }
      if (!stopped) timer = window.setTimeout(tick, ms);
    };
    void tick();
    return () => {
      stopped = true;
      window.clearTimeout(timer);
    };
  }, [ms, ...deps]);
}

export const formatTime = (iso: string | null | undefined): string =>
  iso ? new Date(iso).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' }) : '—';

export function formatAge(seconds: number | null): string {
  if (seconds === null) return 'none';
  if (seconds < 90) return `${Math.round(seconds)} s`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function StatusBadge({ status }: { status: string }) {
  return <span class={`badge badge-${status}`}>{status}</span>;
}

/** A polite live region: what changed, read out by screen readers. */
export function Notice({ message, error }: { message?: string | null; error?: string | null }) {
  return (
    <div class="notices">
      <p role="status" aria-live="polite" class="notice">
        {message ?? ''}
      </p>
      {error ? (
        <p role="alert" class="error">
          {error}
        </p>
      ) : null}
    </div>
  );
}

/**
 * A modal dialog on the native <dialog>: showModal() makes the rest of the page inert, keeps the
 * focus inside, closes on Escape, and gives the focus back to the button that opened it.
 */
export function Dialog(props: { open: boolean; title: string; onClose: () => void; children: ComponentChildren }) {
  const ref = useRef<HTMLDialogElement>(null);
  const titleId = useId();
  useEffect(() => {
    const dialog = ref.current;
    if (!dialog) return;
    if (props.open && !dialog.open) dialog.showModal();
    if (!props.open && dialog.open) dialog.close();
  }, [props.open]);
  return (
    <dialog ref={ref} aria-labelledby={titleId} onClose={props.onClose}>
      <h2 id={titleId}>{props.title}</h2>
      {props.open ? props.children : null}
    </dialog>
  );
}

/** Asks before an action; the safe choice (Cancel) has the focus. */
export function Confirm(props: {
  open: boolean;
  title: string;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onCancel: () => void;
  children: ComponentChildren;
}) {
  return (
    <Dialog open={props.open} title={props.title} onClose={props.onCancel}>
      <div class="dialog-body">{props.children}</div>
      <div class="actions">
        <button type="button" autofocus onClick={props.onCancel}>
          Cancel
        </button>
        <button type="button" class={props.danger ? 'danger' : 'primary'} onClick={props.onConfirm}>
          {props.confirmLabel}
        </button>
      </div>
    </Dialog>
  );
}

export interface ChartSeries {
  label: string;
  values: (number | null)[];
  color: string;
}

/**
 * A line chart (uPlot, on a canvas). Screen readers get the figure's caption and a summary in
 * its label; the numbers are in the page's figures too.
 */
export function Chart(props: {
  title: string;
  times: number[];
  series: ChartSeries[];
  summary: string;
  /** The x axis's span (epoch seconds): the whole window, however few points there are yet. */
  span: [number, number];
}) {
  const { title, times, series, summary } = props;
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const span = useRef(props.span);
  span.current = props.span;
  const data = [times, ...series.map((s) => s.values)] as uPlot.AlignedData;
  const labels = series.map((s) => s.label).join('|');

  useEffect(() => {
    const element = box.current;
    if (!element) return;
    const made = new uPlot(
      {
        width: Math.max(280, element.clientWidth),
        height: 220,
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, points: { show: false } }))],
        axes: [{ stroke: '#4b5563' }, { stroke: '#4b5563' }],
        scales: {
          x: { time: true, range: () => span.current },
          y: { range: (_u, _min, max) => [0, Math.max(1, max)] },
        },
      },
      data,
      element,
    );
    plot.current = made;
    const resize = new ResizeObserver(() => made.setSize({ width: Math.max(280, element.clientWidth), height: 220 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      made.destroy();
      plot.current = null;
    };
  }, [labels]);

  useEffect(() => {
    plot.current?.setData(data);
  });

  return (
    <figure class="chart">
      <figcaption>{title}</figcaption>
      <div ref={box} role="img" aria-label={`${title}: ${summary}`} />
    </figure>
  );
}
