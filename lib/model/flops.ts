/**
 * Floating-point operations of one forward pass, counted from the architecture (matrix products, 2 FLOPs
 * per multiply-add; elementwise work is left out). Two counts:
 *  - `straightforward`: the architecture as written (what the PyTorch reference executes);
 *  - `executed`: what the native core runs after folding the VSN's rank-1 prescalers and fc2·GLU
 *    (VsnFolded), i.e. the work behind achieved-GFLOP/s figures.
 */
import type { TFTConfig } from './config.js';

export interface FlopCount {
  straightforward: number;
  executed: number;
}

/** FLOPs per sequence of `steps` steps, outputs for the last step only (as predict/predictBatch do). */
export function forwardFlops(c: TFTConfig, steps = c.seqLen, contextLen = steps): FlopCount {
  const F = c.nFeatures;
  const d = c.dHidden;
  const dk = d / c.nHeads;
  const grn = (nin: number, nh: number, nout: number) => 2 * (nin * nh + nh * nh + nh * 2 * nout + (nin !== nout ? nin * nout : 0));
  const lstmStep = c.lstmLayers * 2 * (4 * d * d) * 2;
  const encoderStep = (folded: boolean) => {
    const perVar = folded ? F * 2 * d * 2 * d : F * (2 * d * d + 2 * d * d + 2 * d * 2 * d);
    const flat = folded ? 2 * F * d + 2 * d * d + 2 * d * 2 * F + 2 * F * F : grn(F * d, d, F);
    const ctx = c.nEntities > 0 ? 2 * d * d : 0;
    return perVar + flat + ctx + lstmStep + 2 * d * 2 * d;
  };
  const statics = c.nEntities > 0 ? 4 * grn(d, d, d) + 2 * 2 * d * d : 0;
  const enrichStep = grn(d, d, d) + (c.nEntities > 0 ? 2 * d * d : 0);
  const mha = (tq: number, tk: number) =>
    2 * d * d * tq + 2 * d * d * tk + 2 * d * dk * tk + 2 * c.nHeads * tq * tk * dk * 2 + 2 * dk * d * tq;
  const decoderLast = mha(1, steps) + 2 * d * 2 * d + grn(d, d, d) + 2 * d * 2 * d + 3 * 2 * d;
  const context =
    c.nContext > 0
      ? (f: boolean) =>
          c.nContext * contextLen * encoderStep(f) +
          mha(c.nContext, c.nContext) +
          2 * d * 2 * d +
          mha(steps, c.nContext) +
          steps * 2 * d * 2 * d
      : () => 0;
  const total = (f: boolean) => statics + steps * (encoderStep(f) + enrichStep) + context(f) + decoderLast;
  return { straightforward: total(false), executed: total(true) };
}
