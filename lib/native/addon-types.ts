/**
 * The whole native surface of tft_native.node, typed in one place. The façade imports only these types and
 * never touches the addon untyped; the binding (native/binding) implements exactly this.
 */

export type FloatArray = Float32Array | Float64Array;
export type RankStatisticName = 'kendall' | 'weighted_tau' | 'spearman' | 'topk_jaccard';
export type RankDeviceName = 'auto' | 'cpu' | 'cuda';

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
  avx2: boolean;
  avx512: boolean;
  avx512Vpopcnt: boolean;
}

export interface NativeAddon {
  /** Hands the addon the façade's error factory; called once per environment by the loader. */
  init(makeError: (code: string, message: string, argument?: string) => Error): void;
  capabilities(): NativeCapabilities;
  setNumThreads(n: number): void;
  getNumThreads(): number;

  rankMatrix(values: FloatArray, m: number, n: number, statistic: RankStatisticName, k: number | undefined,
    device: RankDeviceName): Promise<Float64Array>;
  rankMatrixSync(values: FloatArray, m: number, n: number, statistic: RankStatisticName, k: number | undefined,
    device: RankDeviceName): Float64Array;
  rankPair(a: FloatArray, b: FloatArray, statistic: RankStatisticName, k?: number): number;
  setKendallAlgorithm(algorithm: 'auto' | 'bitset' | 'fenwick'): void;
  kendallAlgorithmFor(m: number, n: number): 'bitset' | 'fenwick';
}
