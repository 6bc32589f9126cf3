/**
 * Stochastic Weight Averaging (Izmailov et al., 2018): the uniform mean of the weights at the end of
 * several epochs at a low, constant learning rate. The finetune phase already runs at learningRate ×
 * finetuneLrScale from the best pretrained weights, so averaging its epochs is SWA without extra passes.
 * The mean lies in a flatter region of the loss than any single epoch, and it does not depend on which
 * epoch a noisy validation Sharpe happened to favour.
 */
import type { StateDict, TFTModel } from '../model/tft-model.js';

export class WeightAverage {
  #sum = new Map<string, { shape: number[]; data: Float64Array }>();
  #count = 0;

  get count(): number {
    return this.#count;
  }

  /** Adds the model's current weights. */
  add(model: TFTModel): void {
    for (const [name, t] of model.stateDict()) {
      let acc = this.#sum.get(name);
      if (!acc) {
        acc = { shape: t.shape, data: new Float64Array(t.data.length) };
        this.#sum.set(name, acc);
      }
      const a = acc.data;
      for (let i = 0; i < a.length; i++) a[i]! += t.data[i]!;
    }
    this.#count++;
  }

  /** The mean of the weights added so far. */
  mean(): StateDict {
    if (this.#count === 0) throw new RangeError('WeightAverage.mean: no weights were added');
    const out: StateDict = new Map();
    for (const [name, acc] of this.#sum) out.set(name, { shape: acc.shape, data: Float32Array.from(acc.data, (v) => v / this.#count) });
    return out;
  }
}
