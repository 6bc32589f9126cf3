/**
 * The Explainer's behaviour: properties every method must have whatever the reference says (the values
 * against Captum are in captum.test.ts), determinism, memory-independent chunking, typed errors, and the
 * model's busy/disposed rules.
 */
import { describe, expect, it } from 'vitest';

import {
  BusyError,
  DTypeError,
  DisposedError,
  Explainer,
  InvalidArgumentError,
  NonFiniteError,
  OutOfRangeError,
  ShapeError,
  attributionConsensus,
  getNumThreads,
  rankFeatures,
  setNumThreads,
} from '../../lib/index.js';
import { trainedLike } from '../helpers/models.js';
import { randn } from '../helpers/random.js';

const T = 8;
const F = 5;
const B = 3;

const model = trainedLike({ nFeatures: F, dHidden: 8, nHeads: 2, seqLen: T });
const ex = new Explainer(model);
const x = randn(B * T * F, 7);
const input = { x, batch: B };

function sum(a: ArrayLike<number>, from = 0, to = a.length): number {
  let s = 0;
  for (let i = from; i < to; i++) s += a[i]!;
  return s;
}

describe('Integrated Gradients', () => {
  it('is complete: Σ attributions = F(x) − F(baseline) as the steps grow (delta reported per input)', async () => {
    const coarse = await ex.integratedGradients(input, { nSteps: 2 });
    const fine = await ex.integratedGradients(input, { nSteps: 128 });
    expect(fine.delta!.length).toBe(B);
    const worst = (d: Float64Array) => Math.max(...Array.from(d, Math.abs));
    expect(worst(fine.delta!)).toBeLessThan(1e-4);
    expect(worst(fine.delta!)).toBeLessThan(worst(coarse.delta!));
    const zeros = await model.predictBatch({ x: new Float32Array(B * T * F), batch: B });
    for (let b = 0; b < B; b++) {
      const total = sum(fine.attributions, b * T * F, (b + 1) * T * F);
      expect(total).toBeCloseTo(fine.outputs[b]! - zeros.position[b]!, 3);
    }
  });
  it('with a per-input baseline equal to the input attributes exactly zero', async () => {
    const r = await ex.integratedGradients(input, { baselines: x, nSteps: 4 });
    expect(Math.max(...Array.from(r.attributions, Math.abs))).toBe(0);
  });
  it('reports its summaries: per-feature mean |a| and per-step totals', async () => {
    const r = await ex.integratedGradients(input, { nSteps: 8 });
    expect(r.featureImportance.length).toBe(F);
    expect(r.stepImportance.length).toBe(T);
    let f0 = 0;
    for (let i = 0; i < B * T; i++) f0 += Math.abs(r.attributions[i * F]!);
    expect(r.featureImportance[0]).toBeCloseTo(f0 / (B * T), 6);
    const ranked = rankFeatures(r.featureImportance, ['a', 'b', 'c', 'd', 'e']);
    expect(ranked.map((e) => e.importance)).toEqual([...r.featureImportance].sort((p, q) => q - p));
  });
});

describe('targets and steps', () => {
  it('explains mu at an earlier step: later steps get exactly zero (the decoder is causal)', async () => {
    const r = await ex.saliency(input, { target: 'mu', step: 3, abs: false });
    expect(r.step).toBe(3);
    expect(r.target).toBe('mu');
    for (let b = 0; b < B; b++) for (let t = 4; t < T; t++) for (let f = 0; f < F; f++) expect(r.attributions[(b * T + t) * F + f]).toBe(0);
    expect(r.stepImportance[3]).toBeGreaterThan(0);
    const p = await model.predictBatch(input, { allSteps: true });
    for (let b = 0; b < B; b++) expect(r.outputs[b]).toBeCloseTo(p.mu[b * T + 3]!, 5);
  });
  it('Input × Gradient is the input times the saliency without abs', async () => {
    const g = await ex.saliency(input, { abs: false, target: 'sigma' });
    const ixg = await ex.inputXGradient(input, { target: 'sigma' });
    for (let i = 0; i < x.length; i++) expect(ixg.attributions[i]).toBeCloseTo(x[i]! * g.attributions[i]!, 6);
  });
});

describe('random draws', () => {
  const dist = randn(6 * T * F, 11);
  it('the same seed gives bit-identical attributions across thread counts and chunk sizes', async () => {
    const opts = { baselines: dist, nSamples: 4, stdevs: 0.1, seed: 5 };
    const tunnel = () =>
      ex.noiseTunnel('gradientShap', input, { type: 'vargrad', nSamples: 3, stdevs: 0.2, seed: 5, baselines: dist, inner: opts });
    const before = getNumThreads();
    try {
      setNumThreads(1);
      const one = await tunnel();
      setNumThreads(2);
      const two = await tunnel();
      expect(Buffer.from(two.attributions.buffer).equals(Buffer.from(one.attributions.buffer))).toBe(true);
      const chunked = await ex.gradientShap(input, { ...opts, internalBatchSize: 1 });
      const whole = await ex.gradientShap(input, opts);
      for (let i = 0; i < x.length; i++) expect(chunked.attributions[i]).toBeCloseTo(whole.attributions[i]!, 6);
      const other = await ex.gradientShap(input, { ...opts, seed: 6 });
      expect(Buffer.from(other.attributions.buffer).equals(Buffer.from(whole.attributions.buffer))).toBe(false);
    } finally {
      setNumThreads(before);
    }
  });
  it('explicit draws replace the seeded ones', async () => {
    const S = 2;
    const draws = {
      shapNoise: new Float32Array(B * S * T * F),
      shapAlpha: new Float32Array(B * S).fill(1),
      shapBaseline: new Int32Array(B * S),
    };
    // α = 1 and no noise: every sample is Input × Gradient against baseline row 0 (zeros here).
    const r = await ex.gradientShap(input, { baselines: new Float32Array(2 * T * F), nSamples: S, draws });
    const ixg = await ex.inputXGradient(input);
    for (let i = 0; i < x.length; i++) expect(r.attributions[i]).toBeCloseTo(ixg.attributions[i]!, 6);
  });
  it('gaussian baselines are seeded', async () => {
    const a = await ex.integratedGradients(input, { baselines: 'gaussian', seed: 3, nSteps: 4 });
    const b = await ex.integratedGradients(input, { baselines: 'gaussian', seed: 3, nSteps: 4 });
    const c = await ex.integratedGradients(input, { baselines: 'gaussian', seed: 4, nSteps: 4 });
    expect(a.attributions).toEqual(b.attributions);
    expect(a.attributions).not.toEqual(c.attributions);
  });
});

describe('context attributions (X-Trend)', () => {
  const C = 2;
  const Tc = 6;
  const xt = trainedLike({ nFeatures: F, dHidden: 8, nHeads: 2, seqLen: T, nContext: C }, 4);
  const xe = new Explainer(xt);
  const ctx = randn(B * C * Tc * F, 9);
  const xin = { x, batch: B, context: ctx, contextLen: Tc };
  it('IG splits F(x, c) − F(x′, c′) between the input and the context', async () => {
    const cb = new Float32Array(C * Tc * F).fill(0.1);
    const r = await xe.integratedGradients(xin, { nSteps: 128, contextAttributions: true, contextBaselines: cb });
    expect(r.contextAttributions!.length).toBe(B * C * Tc * F);
    expect(Math.max(...Array.from(r.delta!, Math.abs))).toBeLessThan(1e-4);
    const atBase = await xt.predictBatch({
      x: new Float32Array(B * T * F),
      batch: B,
      context: new Float32Array(B * C * Tc * F).fill(0.1),
      contextLen: Tc,
    });
    for (let b = 0; b < B; b++) {
      const total = sum(r.attributions, b * T * F, (b + 1) * T * F) + sum(r.contextAttributions!, b * C * Tc * F, (b + 1) * C * Tc * F);
      expect(total).toBeCloseTo(r.outputs[b]! - atBase.position[b]!, 3);
    }
  });
  it('is refused where it has no meaning', async () => {
    await expect(ex.saliency(input, { contextAttributions: true })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(xe.integratedGradients(xin, { contextAttributions: true, contextBaselines: new Float32Array(5) })).rejects.toBeInstanceOf(
      ShapeError,
    );
    const plain = await xe.saliency(xin);
    expect(plain.contextAttributions).toBeUndefined();
  });
});

describe('DeepLift and DeepLiftShap', () => {
  const relGap = (got: number, want: number, scale: number) => Math.abs(got - want) / Math.max(scale, 1e-9);
  it('is complete exactly: Σ attributions = F(x) − F(x′) for any baseline, to float rounding', async () => {
    const base = randn(B * T * F, 21).map((v) => 0.5 * v);
    const r = await ex.deepLift(input, { baselines: base });
    expect(r.method).toBe('deepLift');
    const atBase = await model.predictBatch({ x: base, batch: B });
    const diffs = Array.from(r.outputs, (y, b) => y - atBase.position[b]!);
    const scale = Math.max(...diffs.map(Math.abs));
    for (let b = 0; b < B; b++) {
      expect(relGap(sum(r.attributions, b * T * F, (b + 1) * T * F), diffs[b]!, scale)).toBeLessThan(1e-4);
      expect(Math.abs(r.delta![b]!)).toBeLessThan(1e-4 * scale);
    }
    // and it is not Integrated Gradients at few steps, whose delta is the quadrature error
    const ig = await ex.integratedGradients(input, { baselines: base, nSteps: 2 });
    expect(Math.max(...Array.from(ig.delta!, Math.abs))).toBeGreaterThan(10 * Math.max(...Array.from(r.delta!, Math.abs)));
  });
  it('explains mu at an earlier step, and a baseline equal to the input explains nothing', async () => {
    const r = await ex.deepLift(input, { target: 'mu', step: 3 });
    for (let b = 0; b < B; b++) for (let t = 4; t < T; t++) for (let f = 0; f < F; f++) expect(r.attributions[(b * T + t) * F + f]).toBe(0);
    const same = await ex.deepLift(input, { baselines: x });
    expect(same.attributions.every((v) => v === 0)).toBe(true);
  });
  it('DeepLiftShap is the mean of DeepLifts against each row of the distribution', async () => {
    const K = 3;
    const dist = randn(K * T * F, 23);
    const shap = await ex.deepLiftShap(input, { baselines: dist, internalBatchSize: 2 });
    expect(shap.method).toBe('deepLiftShap');
    const mean = new Float64Array(B * T * F);
    for (let k = 0; k < K; k++) {
      const one = await ex.deepLift(input, { baselines: dist.slice(k * T * F, (k + 1) * T * F) });
      one.attributions.forEach((v, i) => (mean[i]! += v / K));
    }
    shap.attributions.forEach((v, i) => expect(v).toBeCloseTo(mean[i]!, 6));
    expect(Math.max(...Array.from(shap.delta!, Math.abs))).toBeLessThan(1e-4);
  });
  it('attributes the context of an X-Trend model when asked, completing F(x, c) − F(x′, c′)', async () => {
    const xt = trainedLike({ nFeatures: F, dHidden: 8, nHeads: 2, seqLen: T, nContext: 2 }, 5);
    const ctx = randn(B * 2 * 6 * F, 25);
    const r = await new Explainer(xt).deepLift(
      { x, batch: B, context: ctx, contextLen: 6 },
      { contextAttributions: true, contextBaselines: new Float32Array(2 * 6 * F).fill(0.1) },
    );
    expect(r.contextAttributions!.length).toBe(B * 2 * 6 * F);
    const atBase = await xt.predictBatch({
      x: new Float32Array(B * T * F),
      batch: B,
      context: new Float32Array(B * 2 * 6 * F).fill(0.1),
      contextLen: 6,
    });
    for (let b = 0; b < B; b++) {
      const total = sum(r.attributions, b * T * F, (b + 1) * T * F) + sum(r.contextAttributions!, b * 2 * 6 * F, (b + 1) * 2 * 6 * F);
      expect(total).toBeCloseTo(r.outputs[b]! - atBase.position[b]!, 4);
    }
    xt.dispose();
  });
  it('typed errors: a missing or malformed distribution, wrong baseline rows, bad steps', async () => {
    await expect(ex.deepLiftShap(input, {} as never)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ex.deepLiftShap(input, { baselines: new Float32Array(7) })).rejects.toBeInstanceOf(ShapeError);
    await expect(ex.deepLift(input, { baselines: new Float32Array(2 * T * F) })).rejects.toBeInstanceOf(ShapeError);
    await expect(ex.deepLift(input, { step: T })).rejects.toBeInstanceOf(OutOfRangeError);
    await expect(ex.deepLift(input, { contextAttributions: true })).rejects.toBeInstanceOf(InvalidArgumentError);
    const g1 = await ex.deepLift(input, { baselines: 'gaussian', seed: 4 });
    const g2 = await ex.deepLift(input, { baselines: 'gaussian', seed: 4 });
    expect(g1.attributions).toEqual(g2.attributions);
  });
});

describe('consensus between methods', () => {
  const fake = (method: string, imp: number[]) =>
    ({ method, featureImportance: Float64Array.from(imp) }) as unknown as Parameters<typeof attributionConsensus>[0][number];
  it('a hand-worked case: two identical rankings and their reverse', async () => {
    const c = await attributionConsensus([fake('a', [1, 2, 3, 4]), fake('b', [1, 2, 3, 4]), fake('c', [4, 3, 2, 1])]);
    expect(Array.from(c.matrix)).toEqual([1, 1, -1, 1, 1, -1, -1, -1, 1]);
    expect(c.meanCorrelation).toBeCloseTo(-1 / 3, 12);
    expect(c.minCorrelation).toBe(-1);
    expect(c.stdCorrelation).toBeCloseTo(Math.sqrt(4 / 3), 12);
    expect(c.agreementScore).toBeCloseTo(1 / 3, 12);
    const sp = await attributionConsensus([fake('a', [1, 2, 3, 5]), fake('b', [2, 1, 3, 4])], {
      statistic: 'spearman',
      agreementThreshold: 0.5,
    });
    expect(sp.meanCorrelation).toBeCloseTo(0.8, 12); // 1 − 6·2/(4·15)
    expect(sp.agreementScore).toBe(1);
  });
  it('of real attributions, with typed errors for bad input', async () => {
    const rs = await Promise.all([ex.integratedGradients(input, { nSteps: 16 }), ex.inputXGradient(input), ex.saliency(input)]);
    const c = await attributionConsensus(rs);
    expect(c.methods).toEqual(['integratedGradients', 'inputXGradient', 'saliency']);
    expect(c.meanCorrelation).toBeGreaterThanOrEqual(-1);
    expect(c.meanCorrelation).toBeLessThanOrEqual(1);
    await expect(attributionConsensus([rs[0]!])).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(attributionConsensus([rs[0]!, fake('x', [1, 2])])).rejects.toBeInstanceOf(ShapeError);
    await expect(attributionConsensus(rs, { statistic: 'pearson' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
  });
});

describe('perturbation methods', () => {
  it('ablation with groups: every cell of a group gets the same output change', async () => {
    const r = await ex.featureAblation(input, { groups: [0, 0, 1, 1, 2], baselines: 0.5 });
    const ablated = Float32Array.from(x);
    for (let i = 0; i < ablated.length; i++) if (i % F < 2) ablated[i] = 0.5;
    const full = await model.predictBatch(input);
    const part = await model.predictBatch({ x: ablated, batch: B });
    for (let b = 0; b < B; b++) {
      const expected = full.position[b]! - part.position[b]!;
      for (let t = 0; t < T; t++) for (const f of [0, 1]) expect(r.attributions[(b * T + t) * F + f]).toBeCloseTo(expected, 5);
    }
  });
  it('permutation is seeded and never the identity', async () => {
    const a = await ex.featurePermutation(input, { seed: 1 });
    const b = await ex.featurePermutation(input, { seed: 1 });
    expect(a.attributions).toEqual(b.attributions);
    expect(Math.max(...Array.from(a.featureImportance))).toBeGreaterThan(0);
  });
});

describe('bad input gets typed errors', () => {
  it('options, baselines, groups, steps, methods', async () => {
    await expect(ex.integratedGradients(input, { nSteps: 0 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ex.integratedGradients(input, { nSteps: 1.5 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ex.integratedGradients(input, { method: 'riemann_left', nSteps: 1 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ex.integratedGradients(input, { method: 'simpson' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ex.integratedGradients(input, { baselines: new Float32Array(7) })).rejects.toBeInstanceOf(ShapeError);
    await expect(ex.integratedGradients(input, { baselines: new Float32Array(2 * T * F) })).rejects.toBeInstanceOf(ShapeError);
    await expect(ex.integratedGradients(input, { baselines: new Float32Array(T * F).fill(Number.NaN) })).rejects.toBeInstanceOf(
      NonFiniteError,
    );
    await expect(ex.integratedGradients(input, { baselines: [1, 2] as never })).rejects.toBeInstanceOf(DTypeError);
    await expect(ex.saliency(input, { target: 'alpha' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ex.saliency(input, { step: T })).rejects.toBeInstanceOf(OutOfRangeError);
    await expect(ex.noiseTunnel('deepLift' as never, input)).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ex.noiseTunnel('saliency', input, { type: 'median' as never })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ex.featureAblation(input, { groups: [0, 1] })).rejects.toBeInstanceOf(ShapeError);
    await expect(ex.featureAblation(input, { groups: [0, 1, -1, 2, 3] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ex.featurePermutation(input, { permutations: new Int32Array(F * B) })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(ex.gradientShap(input, { draws: { shapAlpha: new Float32Array(1) } })).rejects.toBeInstanceOf(ShapeError);
    await expect(ex.gradientShap(input, { draws: { shapBaseline: new Int32Array(B * 5).fill(3) } })).rejects.toBeInstanceOf(
      OutOfRangeError,
    );
    expect(() => new Explainer({} as never)).toThrow(InvalidArgumentError);
  });
  it('NaN inputs and wrong shapes', async () => {
    const bad = Float32Array.from(x);
    bad[4] = Number.NaN;
    await expect(ex.saliency({ x: bad, batch: B })).rejects.toBeInstanceOf(NonFiniteError);
    await expect(ex.saliency({ x: new Float32Array(5), batch: B })).rejects.toBeInstanceOf(ShapeError);
    await expect(ex.saliency({ x: new Float64Array(B * T * F) as never, batch: B })).rejects.toBeInstanceOf(DTypeError);
  });
  it('a busy model refuses synchronous use while a job runs; a disposed one refuses attribution', async () => {
    const m = trainedLike({ nFeatures: 16, dHidden: 32, nHeads: 4, seqLen: 40 }, 2);
    const e = new Explainer(m);
    const job = e.integratedGradients({ x: randn(8 * 40 * 16, 3), batch: 8 }, { nSteps: 32 });
    expect(() => m.predict({ x: randn(40 * 16, 3), batch: 1 })).toThrow(BusyError);
    await job;
    m.dispose();
    await expect(e.saliency({ x: randn(40 * 16, 3), batch: 1 })).rejects.toBeInstanceOf(DisposedError);
  });
});

describe('running off the JS thread', () => {
  it('a long attribution job does not block the event loop', async () => {
    const m = trainedLike({ nFeatures: 16, dHidden: 32, nHeads: 4, seqLen: 40 }, 3);
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const t0 = performance.now();
    await new Explainer(m).integratedGradients({ x: randn(8 * 40 * 16, 4), batch: 8 }, { nSteps: 64 });
    const elapsed = performance.now() - t0;
    clearInterval(timer);
    expect(elapsed).toBeGreaterThan(30);
    expect(ticks).toBeGreaterThanOrEqual(Math.floor(elapsed / 5 / 3));
    m.dispose();
  });
});
