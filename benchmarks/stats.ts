/** Summary statistics of repeated timings, shared by the benchmarks. */
export const sorted = (xs: readonly number[]): number[] => [...xs].sort((a, b) => a - b);

/** The median (the mean of the two middle values for an even count). */
export function median(xs: readonly number[]): number {
  const s = sorted(xs);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
}

/** Runs `fn` once to warm up, then `reps` times; the last value and the median seconds of the timed runs. */
export async function medianSeconds<T>(fn: () => Promise<T>, reps: number): Promise<{ value: T; seconds: number }> {
  let value = await fn();
  const times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    value = await fn();
    times.push((performance.now() - t0) / 1000);
  }
  return { value, seconds: median(times) };
}

/** An integer flag `--name N` ≥ 1 from argv, or the default. */
export function intFlag(argv: readonly string[], name: string, fallback: number): number {
  const i = argv.indexOf(name);
  const n = i >= 0 ? Number(argv[i + 1]) : fallback;
  if (!Number.isInteger(n) || n < 1) throw new Error(`${name}: expected an integer >= 1, got ${argv[i + 1]}`);
  return n;
}
