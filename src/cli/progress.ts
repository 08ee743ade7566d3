import { SingleBar, Presets } from 'cli-progress';
import type { TrainingProgress } from '../training/index.js';
import { count, seconds } from './format.js';

/**
 * Reports progress of long work on stderr (stdout carries the command's result): a bar with rate and ETA
 * on a terminal; sparse plain lines with the same numbers otherwise (logs, CI, pipes).
 */
export interface Progress {
  /**
   * `total` null: work of unknown size, shown as a count and a rate, never as a percentage of a guess.
   * `unit` names what is counted (`events`, `rows`); a new label starts a new stage, timed from now.
   */
  update(label: string, done: number, total: number | null, unit?: string): void;
  /** Starts a stage with nothing to count (reading a log in one call): shown with its elapsed time. */
  begin(label: string): void;
  /** Ends the current stage (a last line on a pipe, the finished bar on a terminal). */
  stop(): void;
}

export interface ProgressOptions {
  readonly stream?: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** Plain lines at most this often per stage (default 2 s); the first and last are always written. */
  readonly intervalMs?: number;
  /** For tests. */
  readonly now?: () => number;
}

/** Nothing: for callers that must not write (a JSON-only mode, tests). */
export const silentProgress: Progress = {
  update: () => undefined,
  begin: () => undefined,
  stop: () => undefined,
};

export function createProgress(options: ProgressOptions = {}): Progress {
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? Date.now;
  return stream.isTTY === true
    ? barProgress(stream as NodeJS.WriteStream, now)
    : plainProgress(stream, now, options.intervalMs ?? 2_000);
}

export interface ProgressStage {
  readonly label: string;
  /** A stage begun with `begin`: nothing counted, only timed. */
  readonly phase?: boolean;
  readonly unit: string;
  readonly started: number;
  done: number;
  total: number | null;
}

/** Per second since the stage started; 0 until a measurable time has passed. */
function rateOf(stage: ProgressStage, at: number): number {
  const elapsed = (at - stage.started) / 1000;
  return elapsed > 0.05 ? stage.done / elapsed : 0;
}

/** `450,000 events/s`; `–/s` before there is a rate to show. */
function rateText(rate: number, unit: string): string {
  const per = unit === '' ? '/s' : ` ${unit}/s`;
  return rate > 0 ? `${count(rate >= 10 ? Math.round(rate) : Number(rate.toFixed(1)))}${per}` : `–${per}`;
}

/**
 * One plain progress line: `reading events  45% 450,000/1,000,000 events  120,000 events/s  ETA 5s`, or
 * for work of unknown size `importing  450,000 events  120,000 events/s  12s elapsed`.
 */
export function progressLine(stage: ProgressStage, at: number): string {
  const elapsed = seconds((at - stage.started) / 1000);
  if (stage.phase === true)
    return stage.done === 0 ? `${stage.label}…` : `${stage.label}: done in ${elapsed}`;
  const unit = stage.unit === '' ? '' : ` ${stage.unit}`;
  const rate = rateOf(stage, at);
  if (stage.total === null) {
    if (stage.done === 0) return `${stage.label}…`;
    return `${stage.label}  ${count(stage.done)}${unit}  ${rateText(rate, stage.unit)}  ${elapsed} elapsed`;
  }
  const total = Math.max(stage.total, stage.done);
  // Nothing done yet: no rate to show, and no ETA to guess.
  if (stage.done === 0) return `${stage.label}  0/${count(total)}${unit}`;
  const share = total === 0 ? 1 : stage.done / total;
  const left = total - stage.done;
  const head = `${stage.label}  ${String(Math.floor(share * 100)).padStart(3)}% ${count(stage.done)}/${count(total)}${unit}`;
  if (left === 0) return `${head}${rate > 0 ? `  ${rateText(rate, stage.unit)}` : ''}  done in ${elapsed}`;
  // The stage's first report: no time measured yet, so neither a rate nor an ETA.
  if (rate === 0) return head;
  return `${head}  ${rateText(rate, stage.unit)}  ETA ${seconds(left / rate)}`;
}

function plainProgress(stream: NodeJS.WritableStream, now: () => number, intervalMs: number): Progress {
  let stage: ProgressStage | null = null;
  let lastShown = 0;
  let lastDone = -1;
  const show = (at: number) => {
    if (stage === null || stage.done === lastDone) return;
    stream.write(`${progressLine(stage, at)}\n`);
    lastShown = at;
    lastDone = stage.done;
  };
  /** The stage's last line: a phase's time, a count's final numbers. */
  const finish = (at: number) => {
    if (stage?.phase === true) stage.done = 1;
    show(at);
  };
  return {
    begin(label) {
      const at = now();
      finish(at);
      stage = { label, phase: true, unit: '', started: at, done: 0, total: null };
      lastDone = -1;
      show(at);
    },
    update(label, done, total, unit = '') {
      const at = now();
      if (stage === null || stage.label !== label) {
        finish(at);
        stage = { label, unit, started: at, done, total };
        lastDone = -1;
        // The first line says the stage began; a stage that reports nothing more still leaves its trace.
        show(at);
        return;
      }
      stage.done = done;
      stage.total = total;
      if ((total !== null && done >= total) || at - lastShown >= intervalMs) show(at);
    },
    stop() {
      finish(now());
      stage = null;
    },
  };
}

function barProgress(stream: NodeJS.WriteStream, now: () => number): Progress {
  let bar: SingleBar | null = null;
  let stage: ProgressStage | null = null;
  const payload = () => {
    const s = stage!;
    return {
      done: count(s.done),
      all: s.total === null ? '' : count(s.total),
      rate: rateText(rateOf(s, now()), s.unit),
    };
  };
  const start = (s: ProgressStage) => {
    const unit = s.unit === '' ? '' : ` ${s.unit}`;
    // Unknown size: no bar and no percentage, the count, rate and time so far.
    const format =
      s.phase === true
        ? `${s.label.padEnd(22)} …  {duration_formatted}`
        : s.total === null
          ? `${s.label.padEnd(22)} {done}${unit}  {rate}  {duration_formatted}`
          : `${s.label.padEnd(22)} [{bar}] {percentage}% {done}/{all}${unit}  {rate}  ETA {eta_formatted}`;
    bar = new SingleBar(
      { format, stream, hideCursor: true, etaBuffer: 50, barsize: 30, clearOnComplete: false },
      Presets.shades_classic,
    );
    bar.start(s.total ?? Number.MAX_SAFE_INTEGER, s.done, payload());
  };
  return {
    begin(label) {
      bar?.stop();
      stage = { label, phase: true, unit: '', started: now(), done: 0, total: null };
      start(stage);
    },
    update(label, done, total, unit = '') {
      if (
        stage === null ||
        stage.phase === true ||
        stage.label !== label ||
        (stage.total === null) !== (total === null)
      ) {
        bar?.stop();
        stage = { label, unit, started: now(), done, total };
        start(stage);
        return;
      }
      stage.done = done;
      stage.total = total;
      if (total !== null) bar?.setTotal(Math.max(total, done));
      bar?.update(done, payload());
    },
    stop() {
      bar?.stop();
      bar = null;
      stage = null;
    },
  };
}

/**
 * The training run's progress in the CLI's terms. Training reports stages of unknown size as `0 of 1`
 * then `1 of 1` (reading events, the re-ranker) and model selection as `done of done + 1`: those show as a
 * stage with its elapsed time, or a count of candidates with its rate, never as a `0/1` counter.
 */
export function trainingProgress(progress: Progress): TrainingProgress {
  const open = new Set<string>();
  return (stage, done, total) => {
    if (stage === 'selecting a model') {
      progress.update(stage, done, null, 'candidates');
    } else if (total <= 1) {
      // A marker: the stage began (0 of 1) or ended (1 of 1); the next stage's start ends it on screen.
      if (!open.has(stage)) {
        open.add(stage);
        progress.begin(stage);
      }
    } else {
      progress.update(stage, done, total, 'steps');
    }
  };
}

/** Counts what passes through, as progress of `label`: rows of a file, batches of events. */
export async function* counted<T>(
  source: AsyncIterable<T>,
  progress: Progress,
  label: string,
  unit: string,
  options: { readonly total?: number | null; readonly size?: (value: T) => number } = {},
): AsyncGenerator<T> {
  let done = 0;
  progress.update(label, 0, options.total ?? null, unit);
  for await (const value of source) {
    done += options.size?.(value) ?? 1;
    progress.update(label, done, options.total ?? null, unit);
    yield value;
  }
  progress.update(label, done, options.total === undefined || options.total === null ? null : done, unit);
}
