/** Signals as a table for backtests (CSV or Parquet), one row per signal. */
import { writeTable, type PositionFormat } from '../inference/export.js';
import type { Signal } from './protocol.js';

const COLUMNS: (keyof Signal)[] = [
  'symbol',
  'date',
  'direction',
  'targetPosition',
  'rawPosition',
  'confidence',
  'expectedReturn',
  'horizonDays',
  'strategyId',
  'modelType',
  'checkpointVersion',
  'createdAt',
];

export async function writeSignals(file: string, signals: readonly Signal[], format?: PositionFormat): Promise<number> {
  const rows = signals.map((s) => COLUMNS.map((c) => (s[c] === null ? Number.NaN : (s[c] as string | number))));
  return writeTable(file, COLUMNS, rows, { symbol: 'VARCHAR', date: 'DATE', direction: 'VARCHAR', strategyId: 'VARCHAR' }, format);
}
