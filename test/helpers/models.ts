/** Models for tests. */
import { TFTModel } from '../../lib/index.js';
import { randn } from './random.js';

/**
 * A model with random biases and gains, as a trained one has: a fresh one's zero biases make x = 0 a
 * degenerate point (every LayerNorm input constant there).
 */
export function trainedLike(config: Parameters<typeof TFTModel.create>[0], seed = 1): TFTModel {
  const m = TFTModel.create(config);
  const state = m.stateDict();
  let k = 0;
  for (const t of state.values()) {
    const noise = randn(t.data.length, seed * 1000 + k++);
    for (let i = 0; i < t.data.length; i++) t.data[i]! += 0.2 * noise[i]!;
  }
  m.loadStateDict(state);
  return m;
}
