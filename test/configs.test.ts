import { readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import { FeatureBuilder, MarketDataStore, loadStabilityConfig, loadTrainingConfig, maxLookback, planFolds } from '../lib/index.js';

const CONFIGS = path.resolve(import.meta.dirname, '../configs');
const files = readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));

describe('configs/*.yaml', () => {
  it('holds the production and abbreviated training configs', () => {
    expect(files).toEqual(expect.arrayContaining(['production.yaml', 'abbreviated.yaml']));
  });

  it("every training config parses through the schema and its fold plan fits the bundled data's calendar", async () => {
    const store = await MarketDataStore.bundled();
    const bundled = await store.panel();
    await store.close();
    for (const file of files) {
      const full = path.join(CONFIGS, file);
      // the stability module's config lives next to the training configs and has its own schema
      if (file.startsWith('safety_config')) {
        expect(() => loadStabilityConfig(full)).not.toThrow();
        continue;
      }
      const c = loadTrainingConfig(full);
      const builder = new FeatureBuilder({ groups: c.features.groups, names: c.features.names, ohlcv: c.features.ohlcv });
      const lookback = maxLookback(builder.specs(bundled.hasOhlcv));
      const folds = planFolds({
        dates: bundled.dates,
        count: c.folds.count,
        testDays: c.folds.testDays,
        validationDays: c.folds.validationDays,
        scheme: c.folds.scheme,
        trainDays: c.folds.trainDays,
        horizon: 1,
        maxLookback: lookback,
        window: c.model.seqLen,
      });
      expect(folds, file).toHaveLength(c.folds.count);
    }
  });

  it("carry the seed's epoch budgets: 30 + 50 in production, 15 + 25 abbreviated", () => {
    const production = loadTrainingConfig(path.join(CONFIGS, 'production.yaml'));
    const abbreviated = loadTrainingConfig(path.join(CONFIGS, 'abbreviated.yaml'));
    expect([production.training.pretrainEpochs, production.training.finetuneEpochs]).toEqual([30, 50]);
    expect([abbreviated.training.pretrainEpochs, abbreviated.training.finetuneEpochs]).toEqual([15, 25]);
    expect(abbreviated.folds.count).toBe(3);
    // the same features and model, so the two passes' VSN rankings compare
    expect(abbreviated.features).toEqual(production.features);
    expect(abbreviated.model).toEqual(production.model);
  });
});
