import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

import {
  DEFAULT_FEATURE_GROUPS,
  DEFAULT_HEALTH_THRESHOLDS,
  loadHealthThresholds,
  DEFAULT_STABILITY_CONFIG,
  FeatureBuilder,
  MarketDataStore,
  loadStabilityConfig,
  loadTrainingConfig,
  maxLookback,
  planFolds,
} from '../lib/index.js';

const CONFIGS = path.resolve(import.meta.dirname, '../configs');
const files = readdirSync(CONFIGS).filter((f) => f.endsWith('.yaml') || f.endsWith('.yml'));

describe('configs/*.yaml', () => {
  it('holds the production and abbreviated training configs', () => {
    expect(files).toEqual(expect.arrayContaining(['production.yaml', 'abbreviated.yaml']));
  });

  it('ships the default stability config, every key at its built-in default and none unknown', () => {
    expect(files).toContain('safety_config.yaml');
    const warnings: string[] = [];
    const loaded = loadStabilityConfig(path.join(CONFIGS, 'safety_config.yaml'), (m) => warnings.push(m));
    expect(loaded).toEqual(DEFAULT_STABILITY_CONFIG);
    expect(warnings).toEqual([]);
    // every key written out, so the file documents the whole section
    const text = readFileSync(path.join(CONFIGS, 'safety_config.yaml'), 'utf8');
    const keys = [
      'auto_analyze_stability',
      'base_dir',
      'top_k',
      'sample_pairs',
      'min_top_k_overlap',
      'min_kendall_tau',
      'min_weighted_tau',
      'min_rbo',
      'min_nogueira_stability',
      'min_selection_frequency',
    ];
    for (const k of keys) expect(text, k).toMatch(new RegExp(`^\\s+${k}:`, 'm'));
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
      // so does the attribution analysis's health bands file
      if (file.startsWith('attribution_health')) {
        expect(loadHealthThresholds(full)).toEqual(DEFAULT_HEALTH_THRESHOLDS);
        continue;
      }
      const c = loadTrainingConfig(full);
      // The feature set training builds: the default groups when the config names neither groups nor features.
      const groups = c.features.names ? c.features.groups : (c.features.groups ?? DEFAULT_FEATURE_GROUPS);
      const builder = new FeatureBuilder({ groups, names: c.features.names, ohlcv: c.features.ohlcv });
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

  it('carry the epoch budgets: 30 + 50 in production, 15 + 25 abbreviated', () => {
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
