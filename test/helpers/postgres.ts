/**
 * A PostgreSQL server for the tuner's storage tests: TFT_TEST_POSTGRES_URL when set (CI starts one), else a
 * throwaway server started with scripts/test-postgres.sh where Debian's postgresql package is installed.
 * Where neither works the tests skip with a note — unless TFT_REQUIRE_POSTGRES=1 (CI), where that fails.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SCRIPT = path.resolve(import.meta.dirname, '../../scripts/test-postgres.sh');

export interface TestPostgres {
  url: string | undefined;
  reason?: string;
  stop: () => void;
}

export function testPostgres(): TestPostgres {
  if (process.env.TFT_TEST_POSTGRES_URL) return { url: process.env.TFT_TEST_POSTGRES_URL, stop: () => {} };
  const dir = mkdtempSync(path.join(tmpdir(), 'tft-pg-'));
  const port = 50000 + (process.pid % 10000);
  try {
    const url = execFileSync('bash', [SCRIPT, 'start', dir, String(port)], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
    return {
      url,
      stop: () => {
        execFileSync('bash', [SCRIPT, 'stop', dir], { stdio: 'ignore' });
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    const reason = `no PostgreSQL server could be started (${(err as Error).message.split('\n')[0]}); install Debian's postgresql or set TFT_TEST_POSTGRES_URL`;
    if (process.env.TFT_REQUIRE_POSTGRES === '1') throw new Error(reason);
    return { url: undefined, reason, stop: () => {} };
  }
}
