import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { CheckpointManager, SnapshotStore } from '../lib/index.js';
import { runCli as capture } from './helpers/cli.js';

describe('tft-native train', () => {
  it('trains on the bundled data, prints the plan and OOS summary, and writes a verifiable checkpoint', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tft-train-cli-'));
    const config = path.join(dir, 'quick.yaml');
    writeFileSync(
      config,
      [
        'features:',
        '  groups: [rsi, ewma_vol]',
        'model:',
        '  dHidden: 8',
        '  nHeads: 2',
        '  seqLen: 21',
        'training:',
        '  pretrainEpochs: 1',
        '  finetuneEpochs: 1',
        '  maxWindowsPerEpoch: 256',
        'folds:',
        '  count: 2',
        '  testDays: 126',
        '  validationDays: 63',
      ].join('\n'),
    );
    const r = await capture([
      'train',
      '--config',
      config,
      '--out',
      path.join(dir, 'ckpt'),
      '--symbols',
      'AA,IBM,MSFT,KO',
      '--no-progress',
      '--stability-dir',
      path.join(dir, 'fi'),
    ]);
    expect(r.code).toBe(0);
    expect(r.err).toMatch(/data: 4 symbols × 2529 days/);
    expect(r.err).toMatch(/fold\s+train\s+validation\s+test\s+gap/);
    expect(r.err).toMatch(/fold 1 finetune epoch 1\/1/);
    expect(r.out).toMatch(/fold\s+test range\s+OOS Sharpe/);
    expect(r.out).toMatch(/^all\s+\d{4}-\d\d-\d\d\.\.\d{4}-\d\d-\d\d\s+-?\d+\.\d\d/m);
    // the simple rules on the same OOS days, and a plain verdict
    expect(r.out).toMatch(/OOS Sharpe on the same days\s+fold 0\s+fold 1\s+all/);
    for (const rule of ['TFT', 'long-only', 'tsmom-21', 'tsmom-63', 'tsmom-126', 'tsmom-252', 'macd'])
      expect(r.out).toMatch(new RegExp(`^  ${rule}\\s+(-?\\d+\\.\\d\\d\\s+){2}-?\\d+\\.\\d\\d$`, 'm'));
    expect(r.out).toMatch(
      /the model (LOSES to [a-z0-9-]+ \(-?\d+\.\d\d\)(, [a-z0-9-]+ \(-?\d+\.\d\d\))*|beats every simple rule) on these days/,
    );
    // 63 validation days of 4 assets cannot choose epochs: the run says so
    expect(r.out).toMatch(
      /warning: validation too short to choose epochs reliably in 2 of 2 fold\(s\): its Sharpe's standard error reaches ±\d\.\d\d/,
    );
    const ckpt = /checkpoint: (.+)$/m.exec(r.out)![1]!;
    const loaded = await new CheckpointManager(path.join(dir, 'ckpt')).load(ckpt);
    expect(loaded.metadata.assetNames).toEqual(['AA', 'IBM', 'MSFT', 'KO']);
    expect(loaded.metadata.trainingInfo!.folds).toHaveLength(2);
    for (const f of loaded.metadata.trainingInfo!.folds) expect(f.validationSharpeSE).toBeGreaterThan(0.5);
    expect(loaded.metadata.trainingInfo!.baselines!.map((b) => b.name)).toEqual([
      'long-only',
      'tsmom-21',
      'tsmom-63',
      'tsmom-126',
      'tsmom-252',
      'macd',
    ]);
    expect(loaded.metadata.trainingInfo!.baselines![0]!.folds).toHaveLength(2);
    expect(loaded.metadata.normalization!.names).toEqual(loaded.metadata.featureNames);
    expect(loaded.metadata.config.dHidden).toBe(8);
    // the gradient flow of the epoch whose weights were saved (fold 1's best), for `explain`
    const flow = loaded.metadata.trainingInfo!.gradientFlow!;
    expect(flow.fold).toBe(1);
    expect(flow.layers.length).toBeGreaterThan(0);
    for (const l of flow.layers) expect(l.norm).toBeGreaterThan(0);
    loaded.model.dispose();
    // one tft_vsn snapshot per fold in the stability store
    const { snapshots } = await new SnapshotStore(path.join(dir, 'fi')).list({ targetName: 'scaled_next_day_return', method: 'tft_vsn' });
    expect(snapshots.map((s) => s.fold).sort()).toEqual([0, 1]);
    expect(snapshots[0]!.features).toHaveLength(loaded.metadata.nFeatures);

    // `attribute` explains the checkpoint's last decisions on the same data.
    const a = await capture(['attribute', '--checkpoint', ckpt, '--days', '3', '--json']);
    expect(a.code).toBe(0);
    const e = JSON.parse(a.out) as {
      windows: number;
      lastDate: string;
      maxAbsDelta: number;
      ranking: { feature: string; importance: number }[];
      stepImportance: number[];
    };
    expect(e.windows).toBe(4 * 3); // 4 assets × 3 days
    expect(e.lastDate).toBe('2001-01-02'); // the bundled sample's last day
    expect(e.ranking.map((r) => r.feature).sort()).toEqual([...loaded.metadata.featureNames].sort());
    expect(e.ranking.map((r) => r.importance)).toEqual(e.ranking.map((r) => r.importance).sort((x, y) => y - x));
    expect(e.stepImportance).toHaveLength(21);
    expect(e.maxAbsDelta).toBeLessThan(0.05);
    const text = await capture(['attribute', '--checkpoint', ckpt, '--method', 'featureAblation', '--days', '2', '--top-k', '3']);
    expect(text.code).toBe(0);
    expect(text.out).toMatch(/featureAblation over 8 windows/);
    expect(text.out.match(/^\s+\d+\s+\S+\s+-?\d\.\d{3}e[-+]\d+$/gm)).toHaveLength(3);
    // DeepLiftShap against windows of the whole history: complete to rounding
    const dls = await capture(['attribute', '--checkpoint', ckpt, '--method', 'deepLiftShap', '--days', '2', '--json']);
    expect(dls.code).toBe(0);
    const d = JSON.parse(dls.out) as { method: string; windows: number; maxAbsDelta: number };
    expect(d.method).toBe('deepLiftShap');
    expect(d.windows).toBe(8);
    expect(d.maxAbsDelta).toBeLessThan(1e-4);
    // `explain`: the full analysis, by feature family, as text and as JSON (also written with --out)
    const outFile = path.join(dir, 'analysis.json');
    const ex = await capture(['explain', '--checkpoint', ckpt, '--samples', '16', '--steps', '8', '--json', '--out', outFile]);
    expect(ex.code).toBe(0);
    const an = JSON.parse(ex.out) as {
      windows: number;
      methods: { method: string }[];
      rankings: { byGroup: { group: string; share: number }[] };
      consensus: { meanCorrelation: number };
      quality: { sparsity: number; concentration: number; infidelity: number; sensitivity: number };
      health: { metric: string; level: string }[];
      gradientFlow: { layers: { layer: string; norm: number }[] };
      gradientFlowSource: { fold: number; phase: string; epoch: number };
    };
    expect(an.windows).toBe(16);
    expect(an.gradientFlow.layers).toEqual(flow.layers);
    expect(an.gradientFlowSource).toEqual({ fold: flow.fold, phase: flow.phase, epoch: flow.epoch });
    expect(an.health.map((h) => h.metric)).toContain('gradientFlow');
    expect(an.methods.map((m) => m.method)).toEqual(['integratedGradients', 'gradientShap', 'deepLift', 'saliency']);
    expect(an.rankings.byGroup.map((g) => g.group).sort()).toEqual(['ewma_vol', 'rsi']);
    expect(an.rankings.byGroup.reduce((t, g) => t + g.share, 0)).toBeCloseTo(1, 9);
    expect(an.health.map((h) => h.metric)).toEqual(expect.arrayContaining(['consensus', 'sparsity', 'infidelity', 'sensitivity']));
    expect(JSON.parse(readFileSync(outFile, 'utf8'))).toEqual(an);
    const exText = await capture([
      'explain',
      '--checkpoint',
      ckpt,
      '--date',
      '2000-12-29',
      '--methods',
      'deeplift,saliency',
      '--samples',
      '4',
    ]);
    expect(exText.code).toBe(0);
    expect(exText.out).toMatch(/windows ending 2000-12-29 … 2000-12-29/);
    expect(exText.out).toMatch(/Attribution consensus: -?\d\.\d{3}/);
    expect(exText.out).toMatch(/Attribution quality - Sparsity: \d\.\d{3}, Concentration: \d\.\d{3}/);
    expect(exText.out).toMatch(/Gradient flow: \d+ vanishing, \d+ exploding layers/);
    expect(exText.out).toContain(
      `(gradient flow as training measured it: fold 1, ${flow.phase} epoch ${flow.epoch}, the epoch of these weights)`,
    );
    expect((await capture(['explain', '--checkpoint', ckpt, '--methods', 'ig,magic'])).code).toBe(2);
    expect((await capture(['explain', '--checkpoint', ckpt, '--date', '1980-01-02'])).code).toBe(1);
    const bad = await capture(['attribute', '--checkpoint', ckpt, '--method', 'deepLiftX']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/must be one of/);
  }, 300_000);

  it('reports bad configs and data as errors with exit code 1', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tft-train-cli-'));
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'training:\n  lossMode: mse\n');
    const r = await capture(['train', '--config', bad, '--no-checkpoint']);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/training\.lossMode.*\[ERR_SCHEMA\]/);
    const missing = await capture(['train', '--data', path.join(dir, 'nope.csv'), '--no-checkpoint']);
    expect(missing.code).toBe(1);
    expect(missing.err).toMatch(/nope\.csv/);
    const unknown = await capture(['train', '--symbols', 'NOPE', '--no-checkpoint']);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/NOPE/);
  });
});
