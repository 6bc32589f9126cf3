/**
 * Parity with Captum 0.8: the Explainer against golden fixtures written by
 * reference/fixtures/make_attribution_fixtures.py (Captum on the PyTorch reference model, with the model
 * fixtures' weights). Captum's random draws (noise, GradientSHAP's baseline rows and alphas, the tunnel's
 * baseline rows, the permutations) are recorded in the fixtures and passed in as explicit draws, so every
 * method, stochastic ones included, must reproduce Captum to float32 rounding:
 * max |ours − Captum| ≤ 1e-5 · max(1, max |Captum|) per entry, the explained outputs likewise, and
 * Integrated Gradients' convergence delta to 1e-4. The X-Trend fixture's `ctx_` entries attribute to the
 * context sequences too (Captum's tuple of inputs (x, context)): their context attributions are held to the
 * same bound, and IG's delta then covers both inputs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  Explainer,
  TFTModel,
  setCpuIsa,
  supportedCpuIsas,
  type Attribution,
  type AttributionDraws,
  type AttributionTarget,
  type Baselines,
  type GradientMethod,
  type IntegrationMethod,
  type ModelInput,
  type NoiseTunnelType,
  type TFTConfigInput,
} from '../../lib/index.js';
import { fixturePath } from '../helpers/fixtures.js';

const CASES = ['plain', 'entities', 'xtrend'] as const;

interface FixtureEntry {
  name: string;
  method: GradientMethod | 'featureAblation' | 'featurePermutation';
  target: AttributionTarget;
  step: number | null;
  options: { nSteps?: number; method?: IntegrationMethod; abs?: boolean; nSamples?: number; stdevs?: number };
  baselines: 'zeros' | 'perInput' | 'shared' | 'distribution' | number;
  tunnel?: { type: NoiseTunnelType; nSamples: number; stdevs: number; drawBaselinePerNoise?: boolean };
  attributions: number[];
  outputs: number[];
  delta?: number[];
  /** Attributions to the context sequences [B, C, Tc, F] (Captum's second input); their presence marks the entry. */
  contextAttributions?: number[];
  /** The context's baseline: zeros, or a constant shared by every input. */
  contextBaselines?: 'zeros' | number;
  draws?: {
    noise?: number[];
    tunnelBaseline?: number[];
    shapNoise?: number[];
    shapAlpha?: number[];
    shapBaseline?: number[];
    permutations?: number[];
  };
}

interface Fixture {
  metadata: { captum: string; torch: string; case: string; B: number; T: number; F: number; C: number; Tc: number };
  x: number[];
  entityIds: number[] | null;
  context: number[] | null;
  contextLen: number | null;
  contextEntityIds: number[] | null;
  baselines: { perInput: number[]; shared: number[]; distribution: number[]; distributionRows: number };
  entries: FixtureEntry[];
}

function loadCase(name: string) {
  const fixture = JSON.parse(readFileSync(fixturePath('attribution', `${name}.json`), 'utf8')) as Fixture;
  const dir = fixturePath('model', name);
  const config = JSON.parse(readFileSync(path.join(dir, 'config.json'), 'utf8')) as TFTConfigInput;
  const { B, T } = fixture.metadata;
  const input: ModelInput = {
    x: Float32Array.from(fixture.x),
    batch: B,
    steps: T,
    ...(fixture.entityIds ? { entityIds: Int32Array.from(fixture.entityIds) } : {}),
    ...(fixture.context ? { context: Float32Array.from(fixture.context), contextLen: fixture.contextLen! } : {}),
    ...(fixture.contextEntityIds ? { contextEntityIds: Int32Array.from(fixture.contextEntityIds) } : {}),
  };
  return { fixture, config, dir, input };
}

function baselinesOf(f: Fixture, b: FixtureEntry['baselines']): Baselines | undefined {
  if (b === 'zeros') return undefined;
  if (b === 'perInput') return Float32Array.from(f.baselines.perInput);
  if (b === 'shared') return Float32Array.from(f.baselines.shared);
  if (b === 'distribution') return Float32Array.from(f.baselines.distribution);
  throw new Error(`not a gradient baseline: ${b}`);
}

function drawsOf(e: FixtureEntry): AttributionDraws | undefined {
  const d = e.draws;
  if (!d) return undefined;
  const out: AttributionDraws = {};
  if (d.noise) out.noise = Float32Array.from(d.noise);
  if (d.tunnelBaseline) out.tunnelBaseline = Int32Array.from(d.tunnelBaseline);
  if (d.shapNoise) out.shapNoise = Float32Array.from(d.shapNoise);
  if (d.shapAlpha) out.shapAlpha = Float32Array.from(d.shapAlpha);
  if (d.shapBaseline) out.shapBaseline = Int32Array.from(d.shapBaseline);
  return out;
}

/** The Explainer call that reproduces a fixture entry (its draws passed in). */
async function explain(ex: Explainer, f: Fixture, input: ModelInput, e: FixtureEntry, seed?: number): Promise<Attribution> {
  const common = { target: e.target, ...(e.step === null ? {} : { step: e.step }), draws: drawsOf(e), seed };
  const o = e.options;
  const { C, Tc, F } = f.metadata;
  const context = e.contextAttributions
    ? {
        contextAttributions: true,
        ...(typeof e.contextBaselines === 'number' ? { contextBaselines: new Float32Array(C * Tc * F).fill(e.contextBaselines) } : {}),
      }
    : {};
  if (e.method === 'featureAblation') {
    if (typeof e.baselines !== 'number') throw new Error('featureAblation: expected a scalar baseline');
    return await ex.featureAblation(input, { ...common, baselines: e.baselines });
  }
  if (e.method === 'featurePermutation')
    return await ex.featurePermutation(input, { ...common, permutations: Int32Array.from(e.draws!.permutations!) });
  const baselines = baselinesOf(f, e.baselines);
  if (e.tunnel) {
    return await ex.noiseTunnel(e.method, input, {
      ...common,
      type: e.tunnel.type,
      nSamples: e.tunnel.nSamples,
      stdevs: e.tunnel.stdevs,
      drawBaselinePerNoise: e.tunnel.drawBaselinePerNoise ?? false,
      baselines,
      inner: { nSteps: o.nSteps, method: o.method, nSamples: o.nSamples, stdevs: o.stdevs, abs: o.abs },
    });
  }
  switch (e.method) {
    case 'integratedGradients':
      return await ex.integratedGradients(input, { ...common, ...context, nSteps: o.nSteps, method: o.method, baselines });
    case 'saliency':
      return await ex.saliency(input, { ...common, ...context, abs: o.abs });
    case 'inputXGradient':
      return await ex.inputXGradient(input, { ...common, ...context });
    case 'gradientShap':
      return await ex.gradientShap(input, { ...common, nSamples: o.nSamples, stdevs: o.stdevs, baselines });
  }
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]!));
  return m;
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

// Every kernel path the CPU supports: the perturbation methods' forward passes run the vector kernels.
describe.each(supportedCpuIsas())('kernels: %s', (isa) => {
  beforeAll(() => setCpuIsa(isa));
  afterAll(() => setCpuIsa('auto'));

  describe.each(CASES)('Captum 0.8 parity: %s', (name) => {
    const { fixture, config, dir, input } = loadCase(name);
    const { B, T, F, C, Tc } = fixture.metadata;
    let model: TFTModel | undefined;
    const explainer = async () => {
      if (!model) {
        model = TFTModel.create(config);
        await model.loadWeights(path.join(dir, 'weights.safetensors'));
      }
      return new Explainer(model);
    };
    afterAll(() => model?.dispose());

    it('fixture is from Captum 0.8 with the model fixture shapes', () => {
      expect(fixture.metadata.captum).toMatch(/^0\.8\./);
      expect(fixture.metadata.case).toBe(name);
      expect(T).toBe(config.seqLen);
      expect(F).toBe(config.nFeatures);
      expect(fixture.entries.length).toBeGreaterThanOrEqual(25);
    });

    for (const e of fixture.entries) {
      it(`${e.name} (${e.tunnel ? `noiseTunnel(${e.method}) ${e.tunnel.type}` : e.method}${e.contextAttributions ? ` + context` : ''}, ${e.target}${e.step === null ? '' : ` step ${e.step}`})`, async ({
        annotate,
      }) => {
        const ex = await explainer();
        const r = await explain(ex, fixture, input, e);
        expect([r.batch, r.steps, r.features]).toEqual([B, T, F]);
        expect(r.step).toBe(e.step ?? T - 1);
        expect(r.target).toBe(e.target);
        expect(r.attributions.length).toBe(B * T * F);
        const scale = maxAbs(e.attributions);
        const err = maxDiff(r.attributions, e.attributions);
        const outErr = maxDiff(r.outputs, e.outputs);
        let ctxErr: number | undefined;
        let ctxScale = 0;
        if (e.contextAttributions) {
          expect(r.contextAttributions).toBeDefined();
          expect(r.contextAttributions!.length).toBe(B * C * Tc * F);
          ctxScale = maxAbs(e.contextAttributions);
          ctxErr = maxDiff(r.contextAttributions!, e.contextAttributions);
        } else {
          expect(r.contextAttributions).toBeUndefined();
        }
        let deltaErr: number | undefined;
        // Captum's delta without a tunnel is per input; in a tunnel it is per noisy copy and the core returns none.
        if (e.method === 'integratedGradients' && !e.tunnel) {
          expect(r.delta).toBeDefined();
          deltaErr = maxDiff(r.delta!, e.delta!);
          expect(deltaErr).toBeLessThanOrEqual(1e-4);
        }
        const line =
          `${name} ${e.name}: max|Δ| ${err.toExponential(2)} (max|Captum| ${scale.toExponential(2)}, ` +
          `rel ${(err / Math.max(1, scale)).toExponential(2)}, rel to scale ${(err / (scale || 1)).toExponential(2)}); ` +
          `outputs ${outErr.toExponential(2)}` +
          (ctxErr === undefined
            ? ''
            : `; context max|Δ| ${ctxErr.toExponential(2)} (max|Captum| ${ctxScale.toExponential(2)}, ` +
              `rel ${(ctxErr / Math.max(1, ctxScale)).toExponential(2)}, rel to scale ${(ctxErr / (ctxScale || 1)).toExponential(2)})`) +
          (deltaErr === undefined ? '' : `; delta ${deltaErr.toExponential(2)}`);
        await annotate(line);
        expect(err).toBeLessThanOrEqual(1e-5 * Math.max(1, scale));
        expect(outErr).toBeLessThanOrEqual(1e-5 * Math.max(1, maxAbs(e.outputs)));
        if (ctxErr !== undefined) expect(ctxErr).toBeLessThanOrEqual(1e-5 * Math.max(1, ctxScale));
      });
    }
  });
});

describe('explicit draws', () => {
  it('give bit-identical results when re-run (tunnel noise, tunnel baselines, GradientSHAP draws, permutations)', async () => {
    const { fixture, config, dir, input } = loadCase('xtrend');
    const model = TFTModel.create(config);
    await model.loadWeights(path.join(dir, 'weights.safetensors'));
    const ex = new Explainer(model);
    try {
      const names = [
        'nt_ig_smoothgrad_baseline_per_noise',
        'gradient_shap',
        'nt_gradient_shap_smoothgrad',
        'nt_saliency_smoothgrad_sq',
        'feature_permutation',
      ];
      for (const n of names) {
        const e = fixture.entries.find((x) => x.name === n)!;
        expect(e, n).toBeDefined();
        // Every draw is given, so the seed has nothing left to draw: seeds 1 and 2 agree bit for bit.
        const a = await explain(ex, fixture, input, e, 1);
        const b = await explain(ex, fixture, input, e, 2);
        const c = await explain(ex, fixture, input, e, 1);
        for (const r of [b, c]) {
          expect(Buffer.from(r.attributions.buffer).equals(Buffer.from(a.attributions.buffer)), n).toBe(true);
          expect(Buffer.from(r.outputs.buffer).equals(Buffer.from(a.outputs.buffer)), n).toBe(true);
        }
      }
    } finally {
      model.dispose();
    }
  });
});
