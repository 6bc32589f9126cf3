/**
 * The tuner benchmark's test functions, the same as reference/bench/tuning_reference.py's: Branin (2-D,
 * minimum 0.397887), Hartmann-6 (minimum −3.32237), and a 10-D Rosenbrock with a categorical scale, a
 * categorical offset and an integer switch (minimum log1p(0) = 0 at x = 1, scale a, offset 0, n = 3).
 */
import type { Trial } from '../lib/tuning/index.js';

const A = [
  [10, 3, 17, 3.5, 1.7, 8],
  [0.05, 10, 17, 0.1, 8, 14],
  [3, 3.5, 1.7, 10, 17, 8],
  [17, 8, 0.05, 10, 0.1, 14],
];
const P = [
  [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
  [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
  [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.665],
  [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];
const ALPHA = [1.0, 1.2, 3.0, 3.2];

export interface Problem {
  name: string;
  budget: number;
  optimum: number;
  objective: (t: Trial) => number;
}

export const PROBLEMS: Problem[] = [
  {
    name: 'branin',
    budget: 100,
    optimum: 0.397887,
    objective: (t) => {
      const x = t.suggestFloat('x', -5, 10);
      const y = t.suggestFloat('y', 0, 15);
      return (y - (5.1 / (4 * Math.PI ** 2)) * x * x + (5 / Math.PI) * x - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x) + 10;
    },
  },
  {
    name: 'hartmann6',
    budget: 100,
    optimum: -3.32237,
    objective: (t) => {
      const x = Array.from({ length: 6 }, (_, i) => t.suggestFloat(`x${i}`, 0, 1));
      return -ALPHA.reduce((s, a, i) => s + a * Math.exp(-x.reduce((q, xj, j) => q + A[i]![j]! * (xj - P[i]![j]!) ** 2, 0)), 0);
    },
  },
  {
    name: 'rosenbrock10_switch',
    budget: 150,
    optimum: 0,
    objective: (t) => {
      const x = Array.from({ length: 10 }, (_, i) => t.suggestFloat(`x${i}`, -2, 2));
      const scale = { a: 1, b: 2, c: 4 }[t.suggestCategorical('scale', ['a', 'b', 'c'])];
      const offset = t.suggestCategorical('offset', [0, 10, 20]);
      const n = t.suggestInt('n', 1, 8);
      let rosen = 0;
      for (let i = 0; i < 9; i++) rosen += 100 * (x[i + 1]! - x[i]! ** 2) ** 2 + (1 - x[i]!) ** 2;
      return Math.log1p(rosen * scale + offset + (n - 3) ** 2);
    },
  },
];
