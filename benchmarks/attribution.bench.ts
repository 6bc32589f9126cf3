/**
 * `npm run bench:attribution`: tft-native's attribution (lib/attribution) against Captum 0.8 on the PyTorch
 * reference model (reference/bench/attribution_reference.py), as users write it (per-variable GRN loop) and
 * with a batched VSN, in one run, on the same inputs and weights, with the same thread count (2 unless told).
 * Reference config: F=64, T=63, dHidden=64, 4 heads, 1 LSTM layer, every parameter perturbed by seeded noise
 * (nonzero biases); B=32 seeded N(0, 1) inputs; the output explained is the position at the last step.
 *
 * Jobs: Integrated Gradients 32 × 50 steps (Gauss-Legendre, zeros baseline); GradientSHAP 32 × 5 samples in
 * a SmoothGrad noise tunnel of 5; Saliency 32 (the per-call overhead); feature ablation 32 × 64 groups (one
 * per feature). Prints the times and ratios, the IG job's GFLOP/s against sgemm, the differences of the
 * deterministic attributions to Captum's, and the peak RSS of IG at 50 and 500 steps in fresh processes.
 *
 * Captum is not a dependency: extract tag v0.8.0 of github.com/pytorch/captum (see the Python script's
 * docstring) and put it on PYTHONPATH or pass --captum. Without it the bench says so and runs tft-native alone.
 *
 *   --quick          B=4, 8 IG steps, a 2 × 2 tunnel, 1 repetition, RSS probe over 4 inputs (development)
 *   --reps N         repetitions of tft-native and Captum-on-batched-VSN jobs (median; default 3)
 *   --loop-reps N    repetitions of the Captum-on-loop-VSN jobs (default 1: IG there takes minutes)
 *   --skip-loop      leave out Captum on the loop-style VSN
 *   --threads N      intra-op threads on both sides (default 2)
 *   --captum DIR     the directory holding Captum's `captum/` package (else PYTHONPATH)
 *   --python P       reference interpreter (default /usr/bin/python3)   --no-python   tft-native only
 *   --ibs N          Captum IG internal_batch_size (default: tft-native's default chunk rounded to whole steps)
 *   --ppe N          Captum FeatureAblation perturbations_per_eval (default 128 rows per evaluation)
 *   --nt-batch N     Captum NoiseTunnel nt_samples_batch_size (default 1: B × nSamples rows per pass)
 *   --rss-batch N    batch of the RSS probe (default B)   --skip-rss   no RSS probe
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { Explainer, TFTModel, forwardFlops, measureSgemmGflops, resolveConfig, setNumThreads } from '../lib/index.js';
import type { TFTConfig } from '../lib/index.js';
import { randn } from '../test/helpers/random.js';
import { printMachine } from './machine.js';
import { peakRssMiB } from './peak-rss.js';
import { medianSeconds } from './stats.js';

const args = process.argv.slice(2);
const ROOT = path.resolve(import.meta.dirname, '..');
const quick = args.includes('--quick');
const flag = (name: string) => args.includes(name);
const opt = (name: string) => (args.includes(name) ? args[args.indexOf(name) + 1] : undefined);
function intOpt(name: string, def: number): number {
  const s = opt(name);
  if (s === undefined) return def;
  const v = Number(s);
  if (!Number.isSafeInteger(v) || v < 1) throw new Error(`${name}: expected a positive integer, got ${s}`);
  return v;
}

const python = opt('--python') ?? '/usr/bin/python3';
const captumDir = opt('--captum');
const threads = intOpt('--threads', 2);

// Sizes: the reference jobs, or the development ones.
const B = quick ? 4 : 32;
const N_STEPS = quick ? 8 : 50;
const NT_SAMPLES = quick ? 2 : 5;
const SHAP_SAMPLES = quick ? 2 : 5;
const NT_STDEVS = 0.1;
const K = 8; // rows of the GradientSHAP baseline distribution
const REPS = intOpt('--reps', quick ? 1 : 3);
const LOOP_REPS = intOpt('--loop-reps', 1);
const SALIENCY_REPS = quick ? 3 : 20;
const RSS_STEPS = [50, 500]; // rows: 1600 and 16000 at B=32, 200 and 2000 with --quick; all many 59-row chunks
const RSS_BATCH = intOpt('--rss-batch', B);

const fmt = (s: number) => (s >= 1 ? `${s.toFixed(2)} s` : `${(s * 1000).toFixed(1)} ms`);
const out = (s = '') => process.stdout.write(s + '\n');

/** The reference model, every parameter moved by seeded N(0, 0.05²) noise so no bias or gain is trivial. */
function makeModel(): { config: TFTConfig; model: TFTModel } {
  const config = resolveConfig({ nFeatures: 64, dHidden: 64, nHeads: 4, lstmLayers: 1, seqLen: 63, dropout: 0.1, seed: 1 });
  const model = TFTModel.create(config);
  const state = model.stateDict();
  let i = 0;
  for (const [name, t] of state) {
    const noise = randn(t.data.length, 1000 + i++);
    state.set(name, { shape: t.shape, data: t.data.map((v, j) => v + 0.05 * noise[j]!) });
  }
  model.loadStateDict(state);
  return { config, model };
}

/** tft-native's default gradient chunk (native/core/attribution/gradients.cpp: a 512 MiB budget). */
function defaultChunkRows(c: TFTConfig): number {
  const perRow = 4 * c.seqLen * (8 * c.nFeatures * c.dHidden + 48 * c.dHidden);
  return Math.max(1, Math.floor((512 * 2 ** 20) / perRow));
}

/** Child process: peak RSS of one IG call with `nSteps` over `batch` inputs (argv: --rss-child nSteps batch). */
async function rssChild() {
  setNumThreads(threads);
  const i = args.indexOf('--rss-child');
  const nSteps = Number(args[i + 1]);
  const batch = Number(args[i + 2]);
  const { config, model } = makeModel();
  const { seqLen: T, nFeatures: F } = config;
  const x = randn(batch * T * F, 7);
  const ex = new Explainer(model);
  await ex.integratedGradients({ x: x.subarray(0, T * F), batch: 1 }, { nSteps: 2 });
  const baseline = peakRssMiB();
  const t0 = performance.now();
  await ex.integratedGradients({ x, batch }, { nSteps });
  const seconds = (performance.now() - t0) / 1000;
  const peak = peakRssMiB();
  process.stdout.write(JSON.stringify({ nSteps, batch, baselineMiB: baseline, peakMiB: peak, seconds }) + '\n');
}

function rssProbe(nSteps: number, batch: number) {
  return JSON.parse(
    execFileSync(
      process.execPath,
      [...process.execArgv, process.argv[1]!, '--rss-child', String(nSteps), String(batch), '--threads', String(threads)],
      {
        cwd: ROOT,
        encoding: 'utf8',
      },
    ),
  ) as { nSteps: number; batch: number; baselineMiB: number; peakMiB: number; seconds: number };
}

const referenceScript = path.join(ROOT, 'reference/bench/attribution_reference.py');
const captumArgs = captumDir ? ['--captum', captumDir] : [];

/** Whether the reference interpreter imports torch and Captum; a note why not otherwise. */
function checkCaptum(): { ok: true; version: string; torch: string } | { ok: false; why: string } {
  try {
    const r = JSON.parse(
      execFileSync(python, [referenceScript, '--check', ...captumArgs], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }),
    ) as {
      ok: boolean;
      captum?: string;
      torch: string;
      error?: string;
    };
    return r.ok ? { ok: true, version: r.captum!, torch: r.torch } : { ok: false, why: `Captum does not import (${r.error})` };
  } catch (e) {
    const msg = (e as { stderr?: string }).stderr?.trim().split('\n').pop() ?? (e as Error).message;
    return { ok: false, why: `${python} with torch could not run (${msg})` };
  }
}

type Ref = Record<string, number | string>;

async function main() {
  setNumThreads(threads);
  printMachine();
  const { config, model } = makeModel();
  const { nFeatures: F, seqLen: T } = config;
  const dir = mkdtempSync(path.join(tmpdir(), 'tft-attribution-bench-'));
  writeFileSync(path.join(dir, 'config.json'), JSON.stringify(config));
  await model.saveWeights(path.join(dir, 'weights.safetensors'));
  const x = randn(B * T * F, 7);
  const dist = randn(K * T * F, 9);
  writeFileSync(path.join(dir, 'x.f32'), x);
  writeFileSync(path.join(dir, 'dist.f32'), dist);

  const chunk = defaultChunkRows(config);
  const ibs = intOpt('--ibs', B * Math.max(1, Math.round(chunk / B)));
  const ppe = intOpt('--ppe', Math.max(1, Math.floor(128 / B)));
  const ntBatch = intOpt('--nt-batch', 1);
  const nativeGroupsPerCall = Math.min(F, Math.max(1, Math.floor(4096 / B)));

  // --- tft-native ---------------------------------------------------------------------------------------
  const ex = new Explainer(model);
  const input = { x, batch: B };
  out(`tft-native: timing ${REPS} repetition(s) of each job after a warm-up…`);
  const igResult = await ex.integratedGradients(input, { nSteps: N_STEPS });
  writeFileSync(path.join(dir, 'native_ig.f32'), igResult.attributions);
  writeFileSync(path.join(dir, 'native_saliency.f32'), (await ex.saliency(input)).attributions);
  writeFileSync(path.join(dir, 'native_ablation.f32'), (await ex.featureAblation(input)).attributions);
  const native = {
    ig: (await medianSeconds(() => ex.integratedGradients(input, { nSteps: N_STEPS }), REPS)).seconds,
    ntShap: (
      await medianSeconds(
        () =>
          ex.noiseTunnel('gradientShap', input, {
            type: 'smoothgrad',
            nSamples: NT_SAMPLES,
            stdevs: NT_STDEVS,
            baselines: dist,
            inner: { nSamples: SHAP_SAMPLES, stdevs: 0.0 },
            seed: 1,
          }),
        REPS,
      )
    ).seconds,
    saliency: (await medianSeconds(() => ex.saliency(input), SALIENCY_REPS)).seconds,
    ablation: (await medianSeconds(() => ex.featureAblation(input), REPS)).seconds,
    deepLift: (await medianSeconds(() => ex.deepLift(input), SALIENCY_REPS)).seconds,
  };
  const dl = await ex.deepLift(input);
  const dlDelta = Math.max(...Array.from(dl.delta!, Math.abs));
  const sgemm = measureSgemmGflops(1024, 10);
  const flops = forwardFlops(config);
  const maxDelta = igResult.delta ? Math.max(...Array.from(igResult.delta, Math.abs)) : NaN;

  // --- peak RSS in nSteps, fresh processes -------------------------------------------------------------------
  const rss = flag('--skip-rss')
    ? undefined
    : (out(`peak RSS probe: IG over ${RSS_BATCH} inputs at ${RSS_STEPS.join(' and ')} steps, in fresh processes…`),
      RSS_STEPS.map((n) => rssProbe(n, RSS_BATCH)));

  // --- Captum on the PyTorch reference ---------------------------------------------------------------------------
  let ref: Ref | undefined;
  let refNote: string | undefined;
  if (flag('--no-python')) {
    refNote = 'Captum not run (--no-python): tft-native numbers only';
  } else {
    const c = checkCaptum();
    if (!c.ok) {
      refNote = `Captum not run: ${c.why}. Extract tag v0.8.0 of github.com/pytorch/captum and put it on PYTHONPATH or pass --captum DIR (see reference/bench/attribution_reference.py); tft-native numbers only`;
    } else {
      if (c.version !== '0.8.0') out(`note: Captum ${c.version} imported; this benchmark is written against Captum 0.8.0`);
      writeFileSync(
        path.join(dir, 'plan.json'),
        JSON.stringify({
          batch: B,
          n_steps: N_STEPS,
          ig_internal_batch_size: ibs,
          nt_samples: NT_SAMPLES,
          nt_stdevs: NT_STDEVS,
          shap_samples: SHAP_SAMPLES,
          nt_samples_batch_size: ntBatch,
          perturbations_per_eval: ppe,
          reps: REPS,
          loop_reps: LOOP_REPS,
          saliency_reps: SALIENCY_REPS,
        }),
      );
      out(
        `running Captum ${c.version} (torch ${c.torch}) on the PyTorch reference` +
          (flag('--skip-loop') ? ' (batched VSN only, --skip-loop)' : ' (the loop-style VSN is slow: IG there takes minutes)') +
          '…',
      );
      const stdout = execFileSync(
        python,
        [referenceScript, dir, '--threads', String(threads), ...captumArgs, ...(flag('--skip-loop') ? ['--skip-loop'] : [])],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 24 },
      );
      ref = JSON.parse(stdout.trim().split('\n').pop()!) as Ref;
    }
  }

  // --- report ------------------------------------------------------------------------------------------------
  out(
    `\ntft-native attribution benchmark — F=${F}, T=${T}, dHidden=${config.dHidden}, heads=${config.nHeads}, LSTM layers=${config.lstmLayers}, ` +
      `${threads} thread(s), B=${B}, output: position at the last step${quick ? ' (--quick sizes)' : ''}`,
  );
  out(
    `model FLOPs per sequence (last-step output): ${(flops.straightforward / 1e6).toFixed(1)} M as written, ${(flops.executed / 1e6).toFixed(1)} M executed after VSN folding`,
  );
  if (refNote) out(`  ${refNote}`);
  out();
  const num = (k: string) => (ref && typeof ref[k] === 'number' ? (ref[k] as number) : undefined);
  const rows: string[][] = [['', 'tft-native', 'Captum loop VSN', 'ratio', 'Captum batched VSN', 'ratio']];
  const cell = (s?: number) => (s === undefined ? '–' : fmt(s));
  const ratio = (theirs: number | undefined, ours: number) => (theirs === undefined ? '–' : `${(theirs / ours).toFixed(1)}×`);
  const jobs: [string, string, number][] = [
    [`IntegratedGradients ${B} × ${N_STEPS} steps`, 'ig', native.ig],
    [`NoiseTunnel(GradientSHAP) ${B} × ${NT_SAMPLES} × ${SHAP_SAMPLES}`, 'nt_shap', native.ntShap],
    [`Saliency ${B}`, 'saliency', native.saliency],
    [`FeatureAblation ${B} × ${F} groups`, 'ablation', native.ablation],
    [`DeepLift ${B}`, 'deeplift', native.deepLift],
  ];
  for (const [label, key, ours] of jobs) {
    const loop = num(`loop_${key}_s`);
    const batched = num(`batched_${key}_s`);
    rows.push([label, fmt(ours), cell(loop), ratio(loop, ours), cell(batched), ratio(batched, ours)]);
  }
  const w = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  for (const row of rows) out('  ' + row.map((v, c) => (c === 0 ? v.padEnd(w[c]!) : v.padStart(w[c]!))).join('   '));
  const loopRan = num('loop_ig_s') !== undefined;
  out(
    `  (median of ${REPS} run(s) after a warm-up, ${SALIENCY_REPS} for Saliency and DeepLift` +
      (ref
        ? `, for tft-native and Captum on the batched VSN; ratio = Captum's time / tft-native's` +
          (loopRan ? `; Captum on the loop VSN: ${LOOP_REPS} run(s) after a warm-up on 2 inputs, Saliency ${SALIENCY_REPS})` : ')')
        : ')'),
  );
  const captum = (s: string) => (ref ? s : '');
  out(
    `  chunking: IG — tft-native ${chunk} rows per forward/backward pass (its default, a 512 MiB budget)` +
      captum(`, Captum internal_batch_size=${ibs} (${Math.max(1, Math.floor(ibs / B))} step(s) × ${B} inputs per pass)`) +
      ';',
  );
  out(
    `            NoiseTunnel(GradientSHAP) — tft-native ${chunk} rows per pass` +
      captum(`, Captum nt_samples_batch_size=${ntBatch} (${B * ntBatch * SHAP_SAMPLES} rows per pass), draw_baseline_from_distrib`) +
      `; a ${K}-row baseline distribution, tunnel stdevs ${NT_STDEVS}, GradientSHAP stdevs 0;`,
  );
  out(
    `            FeatureAblation — tft-native ${nativeGroupsPerCall} groups (${nativeGroupsPerCall * B} rows) per forward` +
      captum(`, Captum perturbations_per_eval=${ppe} (${ppe * B} rows per forward)`),
  );

  out(`\n  correctness (deterministic methods, max |tft-native − Captum| / max |Captum|):`);
  if (ref) {
    for (const v of ['loop', 'batched']) {
      if (num(`${v}_ig_max_rel_diff`) === undefined) continue;
      const e = (k: string) => num(`${v}_${k}`)!.toExponential(2);
      out(
        `    Captum on the ${v} VSN: IG ${e('ig_max_rel_diff')} (max |Δ| ${e('ig_max_abs_diff')}, max |attribution| ${e('ig_max_abs')}); ` +
          `Saliency ${e('saliency_max_rel_diff')}; FeatureAblation ${e('ablation_max_rel_diff')}`,
      );
    }
  } else {
    out('    – (Captum not run)');
  }
  out(`    tft-native IG convergence delta: max |Σ attributions − (F(x) − F(0))| = ${maxDelta.toExponential(2)}`);
  out(`    DeepLift completeness, max |Σ attributions − (F(x) − F(0))|: tft-native ${dlDelta.toExponential(2)}`);
  if (ref)
    for (const v of ['loop', 'batched']) {
      const d = num(`${v}_deeplift_max_abs_delta`);
      if (d === undefined) continue;
      out(
        `      Captum on the ${v} VSN ${d.toExponential(2)} (max |F(x) − F(0)| ${num(`${v}_deeplift_max_abs_change`)!.toExponential(2)}): ` +
          `its rules hook nn.Module nonlinearities, and the reference's are functional calls`,
      );
    }

  const rowsIG = B * N_STEPS;
  const achieved = (3 * flops.executed * rowsIG) / native.ig / 1e9;
  const achievedWritten = (3 * flops.straightforward * rowsIG) / native.ig / 1e9;
  out(`\n  sgemm (1024², ${threads} threads): ${sgemm.toFixed(1)} GFLOP/s`);
  out(
    `  IG achieved (≈ 3 × forward FLOPs × ${rowsIG} rows): tft-native ${achieved.toFixed(1)} GFLOP/s executed = ${((100 * achieved) / sgemm).toFixed(0)}% of sgemm ` +
      `(${achievedWritten.toFixed(1)} GFLOP/s in as-written FLOPs)`,
  );
  const capB = num('batched_ig_s');
  if (capB !== undefined) {
    const g = (3 * flops.straightforward * rowsIG) / capB / 1e9;
    out(`               Captum on the batched VSN ${g.toFixed(1)} GFLOP/s as written = ${((100 * g) / sgemm).toFixed(0)}% of sgemm`);
  }

  if (rss) {
    const [a, b] = rss as [(typeof rss)[0], (typeof rss)[0]];
    const mib = (v: number) => `${v.toFixed(0)} MiB`;
    out(`\n  peak RSS, IG over ${RSS_BATCH} inputs (fresh processes, tft-native default chunking):`);
    for (const r of rss)
      out(
        `    nSteps ${String(r.nSteps).padStart(4)}: peak ${mib(r.peakMiB)} (${mib(r.peakMiB - r.baselineMiB)} above the ${mib(r.baselineMiB)} after loading), ${fmt(r.seconds)}`,
      );
    const ratioPeak = b.peakMiB / a.peakMiB;
    out(
      `    ratio ${b.nSteps}/${a.nSteps} steps: ${ratioPeak.toFixed(3)} (goal: within 10% — ${Math.abs(ratioPeak - 1) <= 0.1 ? 'met' : 'NOT met'}); ` +
        `above baseline ${((b.peakMiB - b.baselineMiB) / Math.max(1, a.peakMiB - a.baselineMiB)).toFixed(2)}×`,
    );
  }
}

if (args.includes('--rss-child')) await rssChild();
else await main();
