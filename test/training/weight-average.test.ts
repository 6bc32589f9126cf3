import { describe, expect, it } from 'vitest';

import { TFTModel } from '../../lib/model/tft-model.js';
import { WeightAverage } from '../../lib/training/weight-average.js';

describe('WeightAverage', () => {
  it('is the elementwise mean of the weights added, loadable into the model', () => {
    const config = { nFeatures: 3, dHidden: 8, nHeads: 2, seqLen: 5 };
    const models = [1, 2, 3].map((seed) => TFTModel.create({ ...config, seed }));
    const avg = new WeightAverage();
    expect(() => avg.mean()).toThrow(RangeError);
    for (const m of models) avg.add(m);
    expect(avg.count).toBe(3);
    const mean = avg.mean();
    const dicts = models.map((m) => m.stateDict());
    for (const [name, t] of mean) {
      expect(t.shape).toEqual(dicts[0]!.get(name)!.shape);
      for (let i = 0; i < t.data.length; i += 7) {
        const expected = Math.fround((dicts[0]!.get(name)!.data[i]! + dicts[1]!.get(name)!.data[i]! + dicts[2]!.get(name)!.data[i]!) / 3);
        expect(t.data[i]).toBeCloseTo(expected, 6);
      }
    }
    models[0]!.loadStateDict(mean);
    expect(Array.from(models[0]!.stateDict().get([...mean.keys()][0]!)!.data)).toEqual(Array.from(mean.values().next().value!.data));
    for (const m of models) m.dispose();
  });
});
