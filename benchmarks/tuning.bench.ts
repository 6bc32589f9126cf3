/**
 * `npm run bench:tuning`: tft-native's TPE against Optuna's (Debian's python3-optuna) on the same test
 * functions and budgets over many seeds, and the sampler's cost per suggestion in a study that already
 * holds 1,000 completed trials, side by side in one run.
 *
 * Quality: the mean best value after N trials over the seeds (lower is better), its standard error, and a
 * Welch t statistic of tft-native TPE against Optuna TPE with the same (multivariate) setting; "not
 * worse" when tft-native's mean is at most Optuna's plus two standard errors of the difference.
 *
 *   --seeds N      seeds per problem and sampler (default 10)
 *   --trials N     completed trials in the overhead study (default 1000)
 *   --python P     the reference interpreter (default /usr/bin/python3)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import {
  categoricalDistribution,
  createStudy,
  floatDistribution,
  intDistribution,
  JournalStorage,
  RandomSampler,
  TPESampler,
  TrialState,
  type Distribution,
  type Sampler,
  type Trial,
} from '../lib/tuning/index.js';
import { Xoshiro128 } from '../lib/random/index.js';
import { printMachine } from './machine.js';
import { median } from './stats.js';
import { intFlag } from './stats.js';
import { PROBLEMS } from './tuning-problems.js';

const args = process.argv.slice(2);
const seeds = intFlag(args, '--seeds', 10);
const overheadTrials = intFlag(args, '--trials', 1000);
const python = args.includes('--python') ? args[args.indexOf('--python') + 1]! : '/usr/bin/python3';
const ROOT = path.resolve(import.meta.dirname, '..');

const SAMPLERS: Record<string, (seed: number) => Sampler> = {
  tft_tpe_multivariate: (seed) => new TPESampler({ seed }),
  tft_tpe: (seed) => new TPESampler({ seed, multivariate: false }),
  tft_tpe_mv_scaled_density: (seed) => new TPESampler({ seed, scaledKernelDensity: true }),
  tft_random: (seed) => new RandomSampler({ seed }),
};

async function bestTrace(objective: (t: Trial) => number, sampler: Sampler, n: number): Promise<number[]> {
  const study = await createStudy({ sampler });
  await study.optimize(objective, { nTrials: n });
  let best = Infinity;
  return study.trials.map((t) => (best = Math.min(best, t.value!)));
}

const mean = (v: readonly number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const se = (v: readonly number[]) => Math.sqrt(v.reduce((a, b) => a + (b - mean(v)) ** 2, 0) / (v.length - 1) / v.length);

/** The seed's 12-parameter TFT search space. */
const TFT_SPACE: Record<string, Distribution> = {
  d_hidden: categoricalDistribution('d_hidden', [32, 48, 64, 96, 128]),
  n_heads: categoricalDistribution('n_heads', [2, 4, 8]),
  lstm_layers: intDistribution('lstm_layers', 1, 3),
  dropout: floatDistribution('dropout', 0.05, 0.3),
  seq_len: categoricalDistribution('seq_len', [21, 42, 63]),
  n_context: categoricalDistribution('n_context', [8, 16, 32]),
  lr: floatDistribution('lr', 3e-4, 3e-3, { log: true }),
  batch_size: categoricalDistribution('batch_size', [16, 32, 64]),
  mle_weight: floatDistribution('mle_weight', 0.01, 0.2),
  loss_mode: categoricalDistribution('loss_mode', ['sharpe', 'joint_mle']),
  max_position: floatDistribution('max_position', 0.15, 0.3),
  position_smooth: floatDistribution('position_smooth', 0.2, 0.5),
};

function suggestAll(t: Trial): void {
  for (const [k, d] of Object.entries(TFT_SPACE)) {
    if (d.kind === 'categorical') t.suggestCategorical(k, d.choices);
    else if (d.kind === 'int') t.suggestInt(k, d.low, d.high);
    else t.suggestFloat(k, d.low, d.high, { log: d.log });
  }
}

/** Median seconds of one trial's 12 suggestions after `n` completed trials (in memory, as Optuna's side). */
async function overhead(n: number, multivariate: boolean, reps = 30): Promise<number> {
  const storage = JournalStorage.memory();
  const study = await createStudy({ storage, direction: 'maximize', sampler: new TPESampler({ seed: 0, multivariate }) });
  const rng = new Xoshiro128(0);
  for (let i = 0; i < n; i++) {
    const params: Record<string, number> = {};
    for (const [k, d] of Object.entries(TFT_SPACE)) {
      const u = rng.uniform();
      params[k] =
        d.kind === 'categorical'
          ? Math.floor(u * d.choices.length)
          : d.kind === 'int'
            ? d.low + Math.floor(u * (d.high - d.low + 1))
            : d.log
              ? Math.exp(Math.log(d.low) + u * Math.log(d.high / d.low))
              : d.low + u * (d.high - d.low);
    }
    await storage.createTrial(study.studyId, { state: TrialState.COMPLETE, value: rng.normal(), params, distributions: TFT_SPACE });
  }
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    const trial = await study.ask();
    suggestAll(trial);
    times.push((performance.now() - t0) / 1000);
    await study.tell(trial, 'fail');
  }
  return median(times);
}

printMachine();
process.stdout.write(
  `seeds ${seeds}; Optuna runs in ${python}. tft_tpe_mv_scaled_density: multivariate TPE with the −log σ kernel term of later Optuna versions\n`,
);
const out = path.join(mkdtempSync(path.join(tmpdir(), 'tft-bench-tuning-')), 'optuna.json');
const tPy = performance.now();
execFileSync(python, [path.join(ROOT, 'reference/bench/tuning_reference.py'), out, String(seeds), String(overheadTrials)], {
  stdio: ['ignore', 'ignore', 'inherit'],
});
const py = JSON.parse(readFileSync(out, 'utf8')) as {
  optuna_version: string;
  problems: Record<string, Record<string, number[][]> & { seconds: number }>;
  overhead: { tpe_multivariate_s: number; tpe_s: number };
};
process.stdout.write(`Optuna ${py.optuna_version}: ${((performance.now() - tPy) / 1000).toFixed(0)} s\n\n`);

for (const p of PROBLEMS) {
  const runs: Record<string, number[][]> = { ...py.problems[p.name]! };
  delete (runs as Record<string, unknown>).seconds;
  const t0 = performance.now();
  for (const [name, make] of Object.entries(SAMPLERS)) {
    runs[name] = [];
    for (let s = 0; s < seeds; s++) runs[name].push(await bestTrace(p.objective, make(s), p.budget));
  }
  const tftSeconds = (performance.now() - t0) / 1000;
  const at = [Math.round(p.budget / 4), Math.round(p.budget / 2), p.budget];
  process.stdout.write(`${p.name} (optimum ${p.optimum}; best after N trials, mean ± SE over ${seeds} seeds)\n`);
  process.stdout.write(`  ${'sampler'.padEnd(26)}${at.map((n) => `N=${n}`.padStart(20)).join('')}\n`);
  for (const name of [
    'tft_tpe_multivariate',
    'optuna_tpe_multivariate',
    'tft_tpe',
    'optuna_tpe',
    'tft_tpe_mv_scaled_density',
    'tft_random',
    'optuna_random',
  ]) {
    const cells = at.map((n) => {
      const v = runs[name]!.map((tr) => tr[n - 1]!);
      return `${mean(v).toFixed(4)} ± ${se(v).toFixed(4)}`.padStart(20);
    });
    process.stdout.write(`  ${name.padEnd(26)}${cells.join('')}\n`);
  }
  for (const [ours, theirs] of [
    ['tft_tpe_multivariate', 'optuna_tpe_multivariate'],
    ['tft_tpe', 'optuna_tpe'],
  ] as const) {
    const a = runs[ours]!.map((tr) => tr[p.budget - 1]!);
    const b = runs[theirs]!.map((tr) => tr[p.budget - 1]!);
    const sd = Math.sqrt(se(a) ** 2 + se(b) ** 2);
    const t = (mean(a) - mean(b)) / sd;
    const verdict = mean(a) <= mean(b) + 2 * sd ? 'not worse' : 'WORSE';
    process.stdout.write(`  ${ours} vs ${theirs}: difference ${(mean(a) - mean(b)).toFixed(4)}, Welch t ${t.toFixed(2)} → ${verdict}\n`);
  }
  const r = runs.tft_random!.map((tr) => tr[p.budget - 1]!);
  const m = runs.tft_tpe_multivariate!.map((tr) => tr[p.budget - 1]!);
  process.stdout.write(
    `  tft TPE vs random search: ${mean(m).toFixed(4)} vs ${mean(r).toFixed(4)}${mean(m) < mean(r) ? '' : ' (TPE NOT better)'}\n`,
  );
  process.stdout.write(
    `  time: tft-native ${tftSeconds.toFixed(1)} s, Optuna ${py.problems[p.name]!.seconds.toFixed(1)} s (every sampler and seed)\n\n`,
  );
}

process.stdout.write(
  `sampler overhead: one trial's 12 suggestions (the seed's TFT space), ${overheadTrials} completed trials, in memory\n`,
);
for (const [label, mv, theirs] of [
  ['multivariate TPE', true, py.overhead.tpe_multivariate_s],
  ['univariate TPE', false, py.overhead.tpe_s],
] as const) {
  const ours = await overhead(overheadTrials, mv);
  process.stdout.write(
    `  ${label.padEnd(18)} tft-native ${(ours * 1000).toFixed(1)} ms (${((ours * 1000) / 12).toFixed(2)} ms/suggestion)   Optuna ${(theirs * 1000).toFixed(1)} ms (${((theirs * 1000) / 12).toFixed(2)} ms/suggestion)   ${(theirs / ours).toFixed(1)}×\n`,
  );
}
