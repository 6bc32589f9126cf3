/** Summary statistics of repeated timings, shared by the benchmarks. */
export const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/** The median (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}
