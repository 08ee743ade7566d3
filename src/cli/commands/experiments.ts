import {
  ExperimentRegistry,
  MetricCatalog,
  reportInWorker,
  type ExperimentReport,
} from '../../experiments/index.js';
import { openStore } from '../../store/index.js';
import { cliEngineConfig } from '../config.js';
import { existingDataDir } from '../options.js';
import { formatTable } from '../table.js';

export interface ExperimentsCommandOptions {
  readonly dataDir: string | undefined;
  readonly json: boolean;
}

/** Opens what the experiments commands read: the store, the metric catalog and the experiments. */
async function openExperiments(dataDir: string | undefined) {
  const config = cliEngineConfig(existingDataDir(dataDir));
  const store = await openStore(config.storeUrl, { readonly: true });
  const catalog = await MetricCatalog.open(store);
  const experiments = await ExperimentRegistry.open(store, {
    holdout: config.holdout,
    metricNames: () => catalog.metricNames(),
    exposureFlushMs: 1000,
    onError: (error) => {
      throw error;
    },
  });
  return { store, catalog, experiments };
}

/** `attune experiments list`: every experiment with its status and exposed users. */
export async function listExperiments(options: ExperimentsCommandOptions): Promise<void> {
  const { store, experiments } = await openExperiments(options.dataDir);
  try {
    const rows = [];
    for (const e of experiments.list()) {
      const exposed = await store.countExposures(e.id);
      rows.push({ id: e.id, status: e.status, layer: e.layer, traffic: e.traffic, exposed });
    }
    if (options.json) {
      process.stdout.write(`${JSON.stringify({ experiments: rows, holdout: experiments.holdoutShare })}\n`);
      return;
    }
    const lines = rows.map(
      (r) =>
        `${r.id.padEnd(24)} ${r.status.padEnd(8)} layer ${r.layer} ${(r.traffic * 100).toFixed(0)}%  ` +
        Object.entries(r.exposed)
          .map(([v, n]) => `${v}: ${n}`)
          .join(', '),
    );
    process.stdout.write(
      `${lines.join('\n')}${lines.length > 0 ? '\n' : ''}global holdout: ${(experiments.holdoutShare * 100).toFixed(1)}%\n`,
    );
  } finally {
    await store.close();
  }
}

/** `attune experiments report ID`: the analysis as a terminal table, or one JSON object with `--json`. */
export async function reportExperiment(id: string, options: ExperimentsCommandOptions): Promise<void> {
  const config = cliEngineConfig(existingDataDir(options.dataDir));
  const report = await reportInWorker({
    storeUrl: config.storeUrl,
    id,
    holdout: config.holdout,
    now: Date.now(),
    readonly: true,
  });
  process.stdout.write(options.json ? `${JSON.stringify(report)}\n` : formatReport(report));
}

const pct = (x: number) => `${x >= 0 ? '+' : ''}${(x * 100).toFixed(2)}%`;

/**
 * The daily cumulative lift of each treatment, one line each, oldest day first: how the estimate settled
 * (the JSON's `series` has the intervals and users per day, for charts).
 */
function dailyLines(metric: ExperimentReport['metrics'][number]): string[] {
  const treatments = [...new Set(metric.series.flatMap((p) => Object.keys(p.lift)))];
  return treatments.map((t) => {
    const days = metric.series.map((p) => {
      const lift = p.lift[t];
      return lift === null || lift === undefined ? '–' : pct(lift.rel_lift);
    });
    return `  daily cumulative lift of ${t}: ${days.join(' ')}`;
  });
}

/** The report as a product manager reads it: verdicts first, then a table per metric. */
export function formatReport(report: ExperimentReport): string {
  const out: string[] = [];
  out.push(`${report.name} (${report.experiment}, ${report.status}) as of ${report.as_of}`);
  out.push(
    `exposed users: ${Object.entries(report.exposed)
      .map(([v, n]) => `${v} ${n}`)
      .join(', ')}` +
      (report.sample_ratio
        ? `; sample ratio p = ${report.sample_ratio.p_value.toPrecision(3)}${report.sample_ratio.mismatch ? ' MISMATCH' : ' OK'}`
        : ''),
  );
  out.push('');
  for (const line of report.summary) out.push(`  ${line}`);
  for (const metric of report.metrics) {
    out.push('');
    out.push(
      `${metric.metric} (${metric.role}, ${metric.kind}${metric.adjustment === 'cuped' ? ', CUPED' : ''}` +
        `${metric.higher_is_better ? '' : ', lower is better'})`,
    );
    if (metric.analysis === null) {
      out.push(`  ${metric.problem ?? 'no data'}`);
      continue;
    }
    const header = [
      'variant',
      'users',
      'value',
      'lift',
      '95% interval',
      'always-valid',
      'p (Holm)',
      'chance',
    ];
    const rows: string[][] = [header];
    const { analysis } = metric;
    for (const [name, summary] of Object.entries(analysis.variants)) {
      const value =
        'ratio' in summary ? summary.ratio : 'mean_value' in summary ? summary.mean_value : summary.mean;
      const v = metric.verdicts.find((x) => x.treatment === name);
      const c = analysis.comparisons[name];
      rows.push([
        name,
        String(summary.n),
        value.toPrecision(4),
        v ? pct(v.rel_lift) : '',
        v ? `[${pct(v.rel_ci[0])}, ${pct(v.rel_ci[1])}]` : '',
        c ? `[${c.sequential.ci_low.toPrecision(3)}, ${c.sequential.ci_high.toPrecision(3)}]` : '',
        v ? v.p_adjusted.toPrecision(3) : '',
        v ? `${(v.chance_to_beat_control * 100).toFixed(1)}%` : '',
      ]);
    }
    out.push(...formatTable(rows));
    out.push(...dailyLines(metric));
  }
  return `${out.join('\n')}\n`;
}
