// Child process for the tuning tests: joins study `name` in the storage `journal` (a journal file path, or a
// postgresql:// URL) and runs `n` TPE trials of a cheap objective (argv: journal, name, n, seed, sleepMs[, goFile]). Each trial sleeps
// sleepMs between its two reports, so workers interleave; prints "done <number>" per finished trial. With
// goFile it waits for that file first, so that the parent can release every worker at the same moment.
import { existsSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { createStudy, TPESampler } from '../../lib/tuning/index.js';

const [journal, name, n, seed, sleepMs, goFile] = process.argv.slice(2);
if (goFile) {
  process.stdout.write('ready\n');
  while (!existsSync(goFile)) await sleep(1);
}
const study = await createStudy({
  studyName: name!,
  storage: journal!.includes('://') ? journal! : `journal:${journal}`,
  direction: 'minimize',
  loadIfExists: true,
  sampler: new TPESampler({ seed: Number(seed), nStartupTrials: 5 }),
});
await study.optimize(
  async (trial) => {
    const x = trial.suggestFloat('x', -5, 5);
    const k = trial.suggestCategorical('k', [1, 2, 3]);
    await trial.report(x * x, 0);
    await sleep(Number(sleepMs));
    await trial.report(x * x + k, 1);
    return (x - 1) ** 2 + k;
  },
  { nTrials: Number(n), callbacks: [(_s, t) => void process.stdout.write(`done ${t.number}\n`)] },
);
