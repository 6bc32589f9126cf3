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

const grnFlops = (nin: number, nh: number, nout: number) => 2 * (nin * nh + nh * nh + nh * 2 * nout + (nin !== nout ? nin * nout : 0));

function mhaFlops(c: TFTConfig, tq: number, tk: number): number {
  const d = c.dHidden;
  const dk = d / c.nHeads;
  return 2 * d * d * tq + 2 * d * d * tk + 2 * d * dk * tk + 2 * c.nHeads * tq * tk * dk * 2 + 2 * dk * d * tq;
}

/** The decoder after the enrichment, for the last step's query: attention, its gate, the position-wise GRN, the heads. */
function decoderLastFlops(c: TFTConfig, steps: number): number {
  const d = c.dHidden;
  return mhaFlops(c, 1, steps) + 2 * d * 2 * d + grnFlops(d, d, d) + 2 * d * 2 * d + 3 * 2 * d;
}

/** Static enrichment GRN of one step (with its context term when there are entities). */
function enrichStepFlops(c: TFTConfig): number {
  const d = c.dHidden;
  return grnFlops(d, d, d) + (c.nEntities > 0 ? 2 * d * d : 0);
}

/** FLOPs per sequence of `steps` steps, outputs for the last step only (as predict/predictBatch do). */
export function forwardFlops(c: TFTConfig, steps = c.seqLen, contextLen = steps): FlopCount {
  const F = c.nFeatures;
  const d = c.dHidden;
  const lstmStep = c.lstmLayers * 2 * (4 * d * d) * 2;
  const encoderStep = (folded: boolean) => {
    const perVar = folded ? F * 2 * d * 2 * d : F * (2 * d * d + 2 * d * d + 2 * d * 2 * d);
    const flat = folded ? 2 * F * d + 2 * d * d + 2 * d * 2 * F + 2 * F * F : grnFlops(F * d, d, F);
    const ctx = c.nEntities > 0 ? 2 * d * d : 0;
    return perVar + flat + ctx + lstmStep + 2 * d * 2 * d;
  };
  const statics = c.nEntities > 0 ? 4 * grnFlops(d, d, d) + 2 * 2 * d * d : 0;
  const context =
    c.nContext > 0
      ? (f: boolean) =>
          c.nContext * contextLen * encoderStep(f) +
          mhaFlops(c, c.nContext, c.nContext) +
          2 * d * 2 * d +
          mhaFlops(c, steps, c.nContext) +
          steps * 2 * d * 2 * d
      : () => 0;
  const total = (f: boolean) => statics + steps * (encoderStep(f) + enrichStepFlops(c)) + context(f) + decoderLastFlops(c, steps);
  return { straightforward: total(false), executed: total(true) };
}

export interface RollingFlopCount {
  /** Per (asset, day), shared by every window containing the day: the folded VSN and the first LSTM layer's input projection. */
  perDay: number;
  /** Per window: the recurrent LSTM, the post-LSTM gate and the enrichment at every step, then the last step's decoder. */
  perWindow: number;
}

/**
 * What rolling prediction executes (predictRolling; a pipeline's predictBatch) for models without context
 * sets. Nothing of a window's LSTM can be shared with its neighbours, because each window's LSTM starts from
 * the static state at its own first day, so sgemm's FLOP/s divided by `perWindow` (plus `perDay` per new
 * day) is the ceiling on windows per second.
 */
export function rollingFlops(c: TFTConfig, steps = c.seqLen): RollingFlopCount {
  const F = c.nFeatures;
  const d = c.dHidden;
  const vsn = F * 2 * d * 2 * d + 2 * F * d + 2 * d * d + 2 * d * 2 * F + 2 * F * F + (c.nEntities > 0 ? 2 * d * d : 0);
  const recurrent = 2 * d * 4 * d + (c.lstmLayers - 1) * 2 * (4 * d * d) * 2;
  return {
    perDay: vsn + 2 * d * 4 * d,
    perWindow: steps * (recurrent + 2 * d * 2 * d + enrichStepFlops(c)) + decoderLastFlops(c, steps),
  };
}
