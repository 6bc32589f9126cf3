/**
 * The SQL that parses every cell of a staged source and names its first problem, if any, as
 * 'column|what is wrong'. Parsing and classifying happen in one pass, in the cell's own type (no text
 * conversion of every cell); the text of a bad cell is fetched later, only for the row reported.
 *
 * CSV cells must be exactly what the docs promise: dates yyyy-mm-dd (no time part, no other separators),
 * numbers in plain decimal or exponent notation (no digit separators such as 1_000, no hex; inf and nan
 * parse so that they are reported as not finite). DuckDB's casts accept more, so a text cell is cast only
 * when it matches.
 */
import type { Field, MappedSource, NumericField } from './column-mapping.js';
import { sqlIdent } from './sql-literals.js';

const DATE_TEXT = `'[0-9]{4}-[0-9]{2}-[0-9]{2}'`;
const NUMBER_TEXT = `'(?i)[+-]?(([0-9]+([.][0-9]*)?|[.][0-9]+)(e[+-]?[0-9]+)?|inf|infinity|nan)'`;

/** A source column as SQL: its quoted name and DuckDB type. */
interface Cell {
  col: string;
  type: string;
}

/** Parses a text column (CSV) or converts a typed one (Parquet); NULL where it does not parse. */
function dateExpr({ col, type }: Cell): string {
  if (type === 'VARCHAR') return `CASE WHEN regexp_full_match(trim(${col}), ${DATE_TEXT}) THEN TRY_CAST(trim(${col}) AS DATE) END`;
  if (type === 'DATE' || type.startsWith('TIMESTAMP')) return `CAST(${col} AS DATE)`;
  return `TRY_CAST(CAST(${col} AS VARCHAR) AS DATE)`;
}

function numExpr({ col, type }: Cell): string {
  if (type === 'VARCHAR') return `CASE WHEN regexp_full_match(trim(${col}), ${NUMBER_TEXT}) THEN TRY_CAST(trim(${col}) AS DOUBLE) END`;
  return `TRY_CAST(${col} AS DOUBLE)`;
}

function symbolExpr({ col }: Cell): string {
  return `NULLIF(trim(CAST(${col} AS VARCHAR)), '')`;
}

function nullOrBlank({ col, type }: Cell): string {
  return type === 'VARCHAR' ? `(${col} IS NULL OR trim(${col}) = '')` : `${col} IS NULL`;
}

function dateProblems(date: Cell): string[] {
  return [
    `WHEN ${nullOrBlank(date)} THEN 'date|is empty'`,
    `WHEN ${dateExpr(date)} IS NULL THEN 'date|cannot be parsed as a date (expected yyyy-mm-dd)'`,
    `WHEN ${dateExpr(date)} < DATE '0001-01-01' THEN 'date|is before year 1'`,
  ];
}

function symbolProblems(symbol: Cell): string[] {
  return [
    `WHEN ${symbolExpr(symbol)} IS NULL THEN 'symbol|is empty'`,
    `WHEN regexp_matches(CAST(${symbol.col} AS VARCHAR), '[[:cntrl:]]') THEN 'symbol|contains a control character'`,
  ];
}

function numberProblems(f: NumericField, cell: Cell): string[] {
  const v = numExpr(cell);
  return [
    `WHEN ${nullOrBlank(cell)} THEN '${f}|is empty'`,
    `WHEN ${v} IS NULL THEN '${f}|is not a number'`,
    `WHEN NOT isfinite(${v}) THEN '${f}|is not finite'`,
    f === 'volume' ? `WHEN ${v} < 0 THEN '${f}|is negative'` : `WHEN ${v} <= 0 THEN '${f}|is not a positive price'`,
  ];
}

/** A bar must be consistent: low <= open, close <= high. Range features divide by these. */
function barProblems(numeric: NumericField[], value: (f: NumericField) => string): string[] {
  const has = (f: NumericField) => numeric.includes(f);
  const out: string[] = [];
  if (has('high') && has('low')) out.push(`WHEN ${value('high')} < ${value('low')} THEN 'high|is below the row''s low'`);
  for (const f of ['close', 'open'] as const) {
    if (!has(f)) continue;
    if (has('high')) out.push(`WHEN ${value(f)} > ${value('high')} THEN '${f}|is above the row''s high'`);
    if (has('low')) out.push(`WHEN ${value(f)} < ${value('low')} THEN '${f}|is below the row''s low'`);
  }
  return out;
}

/**
 * One row per record of `source`: symbol, day `d`, the numeric fields, the source index `src`, the record
 * index `rec` and `problem` (NULL for a valid row). The CASE keeps the first problem in column order.
 */
export function parsedSelect(source: MappedSource, numeric: NumericField[]): string {
  const cell = (f: Field): Cell => {
    const c = source.fields.get(f)!;
    return { col: sqlIdent(c.name), type: c.type };
  };
  const problems = [
    ...dateProblems(cell('date')),
    ...symbolProblems(cell('symbol')),
    ...numeric.flatMap((f) => numberProblems(f, cell(f))),
    ...barProblems(numeric, (f) => numExpr(cell(f))),
  ];
  return `SELECT ${symbolExpr(cell('symbol'))} AS symbol, ${dateExpr(cell('date'))} AS d,
           ${numeric.map((f) => `${numExpr(cell(f))} AS ${f}`).join(', ')},
           ${source.index} AS src, ${source.rec} AS rec, CASE ${problems.join(' ')} END AS problem
         FROM ${source.relation}`;
}
