/**
 * A feature panel restricted to some of its features, in the order asked for: what a model trained on a
 * selection reads. Unknown names fail with the list of what the panel has.
 */
import { NotFoundError } from '../errors.js';
import type { FeaturePanel } from './feature-builder.js';

export function subsetFeatures(panel: FeaturePanel, names: readonly string[]): FeaturePanel {
  const index = new Map(panel.names.map((n, i) => [n, i]));
  const cols = names.map((n) => {
    const i = index.get(n);
    if (i === undefined) throw new NotFoundError(`features: "${n}" is not in the panel (it has ${panel.names.length} features)`, 'features');
    return i;
  });
  const F = panel.names.length;
  const G = cols.length;
  const cells = panel.symbols.length * panel.dates.length;
  const values = new Float32Array(cells * G);
  for (let cell = 0; cell < cells; cell++) {
    const src = cell * F;
    const dst = cell * G;
    for (let j = 0; j < G; j++) values[dst + j] = panel.values[src + cols[j]!]!;
  }
  const lookbacks = Int32Array.from(cols, (c) => panel.lookbacks[c]!);
  return {
    symbols: panel.symbols,
    dates: panel.dates,
    names: [...names],
    groups: cols.map((c) => panel.groups[c]!),
    lookbacks,
    values,
    maxLookback: lookbacks.reduce((a, b) => Math.max(a, b), 0),
  };
}
