/**
 * The whole native surface of tft_native.node, typed in one place. The façade imports only these types and
 * never touches the addon untyped; the binding (native/binding) implements exactly this.
 */

export type FloatArray = Float32Array | Float64Array;
export type RankStatisticName = 'kendall' | 'weighted_tau' | 'spearman' | 'topk_jaccard';
export type RankDeviceName = 'auto' | 'cpu' | 'cuda';
export type NativeCpuIsa = 'scalar' | 'avx2' | 'avx512' | 'neon';

export interface NativeCapabilities {
  torchVersion: string;
  torchCudaCompiled: boolean;
  torchCudaDevices: number;
  cudaKernelsCompiled: boolean;
  cudaKernelDevices: number;
  cudaStatus: string;
  intraOpThreads: number;
  hardwareThreads: number;
  parallelBackend: string;
  blas: string;
  blasLibrary: string;
  /** The CPU has AVX2 + FMA. */
  avx2: boolean;
  /** The CPU has AVX-512 F/VL/DQ/BW. */
  avx512: boolean;
  /** ... and VPOPCNTDQ with the rest of AVX3_DL (the avx512 path then counts bits with VPOPCNTQ). */
  avx512Vpopcnt: boolean;
  /** The kernels' active instruction-set path. */
  cpuIsa: NativeCpuIsa;
  /** Every path this CPU can run, scalar first. */
  cpuIsas: NativeCpuIsa[];
  /** Every environment variable the native core reads, with its default and meaning. */
  environment: { name: string; default: string; meaning: string }[];
}

export interface NativeAddon extends NativeModelExports, NativeTrainerExports, NativeAttributionExports, NativeSelectionExports {
  /** Hands the addon the façade's error factory; called once per environment by the loader. */
  init(makeError: (code: string, message: string, argument?: string) => Error): void;
  capabilities(): NativeCapabilities;
  /** The stable error codes the native core can raise. */
  errorCodes(): string[];
  setNumThreads(n: number): void;
  getNumThreads(): number;
  getCpuIsa(): NativeCpuIsa;
  setCpuIsa(isa: string): void;
  measureSgemmGflops(n: number, reps: number): number;

  rankMatrix(
    values: FloatArray,
    m: number,
    n: number,
    statistic: RankStatisticName,
    k: number | undefined,
    device: RankDeviceName,
  ): Promise<Float64Array>;
  rankMatrixSync(
    values: FloatArray,
    m: number,
    n: number,
    statistic: RankStatisticName,
    k: number | undefined,
    device: RankDeviceName,
  ): Float64Array;
  rankPair(a: FloatArray, b: FloatArray, statistic: RankStatisticName, k?: number): number;
  rankPairs(
    values: FloatArray,
    m: number,
    n: number,
    statistic: RankStatisticName,
    k: number | undefined,
    device: RankDeviceName,
    pairs: Int32Array,
  ): Promise<Float64Array>;
  rboMatrix(values: FloatArray, m: number, n: number, p: number): Promise<Float64Array>;
  setKendallAlgorithm(algorithm: 'auto' | 'bitset' | 'fenwick'): void;
  kendallAlgorithmFor(m: number, n: number): 'bitset' | 'fenwick';
}

export interface NativeCorrelation {
  /** cols × cols, row-major; NaN where undefined. */
  r: Float64Array;
  /** cols × cols: rows where both features are finite. */
  nobs: Float64Array;
  mean: Float64Array;
  /** ddof = 1, over each column's finite rows. */
  variance: Float64Array;
  finite: Float64Array;
}

export interface NativeSelectionExports {
  pairwiseCorrelation(
    values: FloatArray,
    rows: number,
    cols: number,
    method: 'pearson' | 'spearman',
    minPeriods: number,
  ): Promise<NativeCorrelation>;
  mutualInfoRegression(
    values: FloatArray,
    rows: number,
    cols: number,
    y: Float64Array,
    nNeighbors: number,
    jitter: boolean,
    seed: number,
  ): Promise<Float64Array>;
}

export interface NativeModelConfig {
  nFeatures: number;
  dHidden: number;
  nHeads: number;
  lstmLayers: number;
  dropout: number;
  seqLen: number;
  nContext: number;
  maxPosition: number;
  nEntities: number;
  seed: number;
}

export interface NativePredictOptions {
  allSteps?: boolean;
  vsnWeights?: boolean;
  attention?: boolean;
  nanPolicy?: 'error' | 'zero';
  chunkSize?: number;
  entityIds?: Int32Array;
  context?: Float32Array;
  contextLen?: number;
  contextEntityIds?: Int32Array;
}

export interface NativeRollingOptions {
  window?: number;
  nanPolicy?: 'error' | 'zero';
  skipNonFinite?: boolean;
  vsnWeights?: boolean;
  chunkWindows?: number;
  entityIds?: Int32Array;
  context?: Float32Array;
  contextLen?: number;
  contextEntityIds?: Int32Array;
}

export interface NativePrediction {
  position: Float32Array;
  mu: Float32Array;
  sigma: Float32Array;
  vsnWeights?: Float32Array;
  attention?: Float32Array;
}

export interface NativeTensor {
  name: string;
  shape: number[];
  data: Float32Array;
}

export interface NativeTftModel {
  predictSync(x: Float32Array, batch: number, steps: number, options: NativePredictOptions): NativePrediction;
  predict(x: Float32Array, batch: number, steps: number, options: NativePredictOptions): Promise<NativePrediction>;
  predictRolling(panel: Float32Array, assets: number, days: number, options: NativeRollingOptions): Promise<NativePrediction>;
  stateDict(): NativeTensor[];
  loadStateDict(state: NativeTensor[]): void;
  saveSafetensors(path: string, metadata: Record<string, string>): Promise<void>;
  loadSafetensors(path: string): Promise<void>;
  parameterSpecs(): { name: string; shape: number[] }[];
  numParameters(): number;
  device(): 'cpu' | 'cuda';
  dispose(): void;
}

export interface NativeSafetensorsHeader {
  tensors: { name: string; dtype: string; shape: number[] }[];
  metadata: Record<string, string>;
}

export interface NativeModelExports {
  NativeTftModel: new (config: NativeModelConfig, device: 'cpu' | 'cuda') => NativeTftModel;
  readSafetensorsHeader(path: string): NativeSafetensorsHeader;
  readSafetensors(path: string): Promise<NativeTensor[]>;
  /** The parameters a (validated) config implies, in file order, without allocating them. */
  parameterSpecsFor(config: NativeModelConfig): { name: string; shape: number[] }[];
}

export interface NativeTrainerData {
  features: Float32Array;
  assets: number;
  days: number;
  target: Float32Array;
  scale?: Float32Array;
  entityIds?: Int32Array;
}

export type NativeLossMode = 'sharpe' | 'joint_mle';

export interface NativeTrainerOptions {
  learningRate?: number;
  weightDecay?: number;
  /** Max global gradient norm (≤ 0 disables clipping). Default 1. */
  clipNorm?: number;
  batchSize?: number;
  /** Window length T (default model.config.seqLen). */
  window?: number;
  /**
   * X-Trend models (nContext > 0): days per context sequence (default: the window length). Each target
   * window gets nContext sequences with finite features, from any asset, each ending before the window's
   * first day; drawn afresh every epoch, fixed for evaluation.
   */
  contextLen?: number;
  /** Seeds shuffling-independent randomness (dropout masks). */
  seed?: number;
  lossMode?: NativeLossMode;
  /** α in α·NLL + Sharpe loss (joint_mle). */
  mleWeight?: number;
  /** Leading steps of each window left out of the loss. */
  warmupSteps?: number;
  /** Transaction cost per unit of turnover, in basis points (needs `scale`). */
  costBps?: number;
}

export interface NativeLayerGradient {
  layer: string;
  norm: number;
  meanAbs: number;
  maxNorm: number;
  vanishing: boolean;
  exploding: boolean;
}

export interface NativeEpochStats {
  loss: number;
  sharpe: number;
  nll: number;
  steps: number;
  windows: number;
  gradNorm: number;
  seconds: number;
  gradients: NativeLayerGradient[];
}

export interface NativeEvalStats {
  loss: number;
  sharpe: number;
  nll: number;
  windows: number;
}

export interface NativeStepProgress {
  step: number;
  steps: number;
  loss: number;
  sharpe: number;
  learningRate: number;
}

export interface NativeTrainer {
  trainEpoch(windows: Int32Array, shuffleSeed: number, onProgress?: (p: NativeStepProgress) => void): Promise<NativeEpochStats>;
  evaluate(windows: Int32Array): Promise<NativeEvalStats>;
  vsnImportance(windows: Int32Array): Promise<Float64Array>;
  validWindows(firstLastDay: number, lastLastDay: number): Int32Array;
  sampleContext(firstDay: number, key?: number): Int32Array;
  contextLength(): number;
  setLearningRate(lr: number): void;
  saveBest(): void;
  restoreBest(): void;
  cancel(): void;
  dispose(): void;
}

export interface NativeTrainerExports {
  NativeTrainer: new (model: NativeTftModel, data: NativeTrainerData, options: NativeTrainerOptions) => NativeTrainer;
}

/** Entity ids and context sets of an attribution input, as predict takes them. */
export interface NativeAttributionInputs {
  entityIds?: Int32Array;
  context?: Float32Array;
  contextLen?: number;
  contextEntityIds?: Int32Array;
}

export interface NativeAttributionDraws {
  noise?: Float32Array;
  tunnelBaseline?: Int32Array;
  shapNoise?: Float32Array;
  shapAlpha?: Float32Array;
  shapBaseline?: Int32Array;
}

export interface NativeGradientOptions extends NativeAttributionInputs {
  method: 'saliency' | 'inputXGradient' | 'integratedGradients' | 'gradientShap';
  target?: string;
  step?: number;
  abs?: boolean;
  nSteps?: number;
  integration?: string;
  nSamples?: number;
  stdevs?: number;
  tunnel?: { type: string; nSamples?: number; stdevs?: number; drawBaselinePerNoise?: boolean };
  baselines?: Float32Array;
  baselineRows?: number;
  gaussianBaselines?: boolean;
  seed?: number;
  internalBatchSize?: number;
  draws?: NativeAttributionDraws;
  contextAttributions?: boolean;
  contextBaselines?: Float32Array;
  contextBaselineRows?: number;
}

export interface NativePerturbationOptions extends NativeAttributionInputs {
  permutation: boolean;
  target?: string;
  step?: number;
  groups?: Int32Array;
  baselines?: Float32Array;
  baselineRows?: number;
  seed?: number;
  permutations?: Int32Array;
  groupCount?: number;
}

export interface NativeDeepLiftOptions extends NativeAttributionInputs {
  shap: boolean;
  target?: string;
  step?: number;
  baselines?: Float32Array;
  baselineRows?: number;
  gaussianBaselines?: boolean;
  seed?: number;
  internalBatchSize?: number;
  contextAttributions?: boolean;
  contextBaselines?: Float32Array;
  contextBaselineRows?: number;
}

export interface NativeAttribution {
  attributions: Float32Array;
  outputs: Float32Array;
  delta?: Float64Array;
  contextAttributions?: Float32Array;
}

export interface NativeAttributionExports {
  attributeGradients(
    model: NativeTftModel,
    x: Float32Array,
    batch: number,
    steps: number,
    options: NativeGradientOptions,
  ): Promise<NativeAttribution>;
  attributePerturbation(
    model: NativeTftModel,
    x: Float32Array,
    batch: number,
    steps: number,
    options: NativePerturbationOptions,
  ): Promise<NativeAttribution>;
  attributeDeepLift(
    model: NativeTftModel,
    x: Float32Array,
    batch: number,
    steps: number,
    options: NativeDeepLiftOptions,
  ): Promise<NativeAttribution>;
}
