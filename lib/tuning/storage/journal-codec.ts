/**
 * One journal line ↔ one operation object. Python's json module (which Optuna uses) writes NaN, Infinity
 * and -Infinity as bare tokens; intermediate values can be NaN, so both directions speak that dialect.
 */
// A sentinel no JSON string of a study holds: a private-use code point around the token.
const MARK = '\ue000';
const NON_FINITE = new RegExp(`"${MARK}(NaN|Infinity|-Infinity)${MARK}"`, 'g');

export function encodeLine(op: object): string {
  const json = JSON.stringify(op, (_k, v: unknown) => (typeof v === 'number' && !Number.isFinite(v) ? `${MARK}${String(v)}${MARK}` : v));
  return json.replace(NON_FINITE, '$1');
}

/** Parses a line; bare NaN / Infinity / -Infinity outside strings become numbers. Throws SyntaxError on malformed input. */
export function decodeLine(line: string): Record<string, unknown> {
  if (!/NaN|Infinity/.test(line)) return JSON.parse(line) as Record<string, unknown>;
  let out = '';
  let inString = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += line[++i] ?? '';
      else if (c === '"') inString = false;
      continue;
    }
    if (c === '"') inString = true;
    const token = ['-Infinity', 'Infinity', 'NaN'].find((t) => line.startsWith(t, i));
    if (!inString && token) {
      out += `"${MARK}${token}${MARK}"`;
      i += token.length - 1;
    } else out += c;
  }
  return JSON.parse(out, (_k, v: unknown) => {
    if (typeof v === 'string' && v.startsWith(MARK) && v.endsWith(MARK) && v.length > 2) return Number(v.slice(1, -1));
    return v;
  }) as Record<string, unknown>;
}
