/**
 * The Compare data export: one CSV row per run × metric × stored point, in the order of the
 * selected metrics, then of the selected runs, then of iterations.
 *
 * Columns:
 * - run_id, run_name: the run.
 * - group: the value of the group-by field for the run ("dppo" when grouped by learner);
 *   empty when the chart is not grouped.
 * - metric: the series name (eval/return, loss/agent3, ...).
 * - iteration, env_steps, wall_time_s: where the value was recorded.
 * - value: the stored value, exact (shortest text that reads back as the same double);
 *   empty where the run stored NaN or infinity.
 * - value_smoothed: the value after the chart's smoothing (EMA weight in the file name),
 *   equal to value when smoothing is 0; empty where value is.
 */
import type { RunDetail } from '../../shared/runs.ts';
import type { RunCurve } from './curves.ts';
import { curveKey } from './model.ts';

export const CSV_COLUMNS = ['run_id', 'run_name', 'group', 'metric', 'iteration', 'env_steps', 'wall_time_s', 'value', 'value_smoothed'] as const;

/** RFC 4180 quoting: fields with a comma, quote or line break are quoted, quotes doubled. */
export function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const numberField = (value: number): string => (Number.isFinite(value) ? String(value) : '');

export interface CsvInput {
  runs: readonly RunDetail[];
  metrics: readonly string[];
  curves: ReadonlyMap<string, RunCurve>;
  smoothed: ReadonlyMap<string, Float64Array>;
  /** Group label by run id; empty when ungrouped. */
  groupOfRun: ReadonlyMap<number, string>;
}

export function compareCsv(input: CsvInput): string {
  const lines: string[] = [CSV_COLUMNS.join(',')];
  for (const metric of input.metrics) {
    for (const run of input.runs) {
      const curve = input.curves.get(curveKey(run.id, metric));
      if (!curve) continue;
      const smoothed = input.smoothed.get(curveKey(run.id, metric)) ?? curve.value;
      const prefix = [String(run.id), csvField(run.name), csvField(input.groupOfRun.get(run.id) ?? ''), csvField(metric)].join(',');
      for (let k = 0; k < curve.value.length; k++) {
        lines.push(
          `${prefix},${curve.iteration[k]},${curve.envSteps[k]},${curve.wallTimeS[k]},${numberField(curve.value[k])},${numberField(smoothed[k])}`,
        );
      }
    }
  }
  return `${lines.join('\n')}\n`;
}
