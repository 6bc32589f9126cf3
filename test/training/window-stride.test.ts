/** training.windowStride: epochs of windows whose loss steps tile the days instead of overlapping. */
import { describe, expect, it } from 'vitest';

import { InvalidArgumentError, WindowSet, resolveTrainingConfig, syntheticDataset, trainWalkForward } from '../../lib/index.js';
import { windowStride } from '../../lib/training/fold-training.js';

describe('WindowSet.strided', () => {
  const pairs = Int32Array.from([0, 10, 0, 11, 0, 12, 0, 13, 0, 14, 0, 15, 1, 10, 1, 13, 1, 16]);
  const set = new WindowSet(pairs);

  it('keeps the windows whose last day is offset modulo stride, in order', () => {
    expect(Array.from(set.strided(3, 1).pairs)).toEqual([0, 10, 0, 13, 1, 10, 1, 13, 1, 16]);
    expect(Array.from(set.strided(3, 4).pairs)).toEqual(Array.from(set.strided(3, 1).pairs));
    expect(Array.from(set.strided(3, -2).pairs)).toEqual(Array.from(set.strided(3, 1).pairs));
    expect(set.strided(1, 0)).toBe(set);
    // every window lands in exactly one offset class
    const sizes = [0, 1, 2].map((o) => set.strided(3, o).size);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(set.size);
    expect(() => set.strided(0, 0)).toThrow(InvalidArgumentError);
    expect(() => set.strided(1.5, 0)).toThrow(InvalidArgumentError);
  });

  it('0 means seqLen − warmupSteps', () => {
    const tc = resolveTrainingConfig({ training: { windowStride: 0, warmupSteps: 10 } }).training;
    expect(windowStride(tc, 63)).toBe(53);
    expect(windowStride({ ...tc, windowStride: 5 }, 63)).toBe(5);
    expect(resolveTrainingConfig({}).training.windowStride).toBe(0);
  });
});

describe('walk-forward training with windowStride 0', () => {
  it('trains each epoch on about one window per stride days of each asset', async () => {
    const ds = syntheticDataset({ seed: 9, symbols: 3, days: 400, informative: 2, noise: 2, duplicates: 0, nanRate: 0 });
    const config = resolveTrainingConfig({
      model: { dHidden: 8, nHeads: 2, seqLen: 10, seed: 1 },
      training: { pretrainEpochs: 2, finetuneEpochs: 1, maxWindowsPerEpoch: 0, warmupSteps: 2, windowStride: 0 },
      folds: { count: 1, testDays: 40, validationDays: 40 },
      output: { saveCheckpoint: false },
    });
    const r = await trainWalkForward({ config, dataset: { prices: ds.panel, features: ds.features } });
    const f = r.folds[0]!;
    const perEpoch = f.trainWindows / 8;
    const epochs = f.epochs.length;
    expect(f.windows.train.windows).toBeGreaterThanOrEqual(epochs * (perEpoch - 3));
    expect(f.windows.train.windows).toBeLessThanOrEqual(epochs * (perEpoch + 3));
    expect(f.windows.train.windows).toBeLessThan(f.trainWindows);
    r.model.dispose();
  });
});
