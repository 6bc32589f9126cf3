/**
 * JSON.parse accepts an object with a repeated key and keeps the last value; RFC 8259 leaves that
 * undefined and other readers keep the first, so a document with duplicates can mean different things to
 * different programs. findDuplicateKey walks the text (already known to be valid JSON) and reports the
 * first key repeated within one object, as a dotted path.
 */
export function findDuplicateKey(text: string): string | undefined {
  let i = 0;
  const ws = () => {
    while (i < text.length && (text[i] === ' ' || text[i] === '\n' || text[i] === '\r' || text[i] === '\t')) i++;
  };
  const str = (): string => {
    const start = i;
    i++; // opening quote
    while (text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
    i++;
    return JSON.parse(text.slice(start, i)) as string;
  };
  const value = (where: string): string | undefined => {
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const seen = new Set<string>();
      ws();
      if (text[i] === '}') {
        i++;
        return undefined;
      }
      for (;;) {
        ws();
        const key = str();
        const here = where ? `${where}.${key}` : key;
        if (seen.has(key)) return here;
        seen.add(key);
        ws();
        i++; // ':'
        const dup = value(here);
        if (dup) return dup;
        ws();
        if (text[i++] === '}') return undefined;
      }
    }
    if (c === '[') {
      i++;
      ws();
      if (text[i] === ']') {
        i++;
        return undefined;
      }
      for (let k = 0; ; k++) {
        const dup = value(`${where}[${k}]`);
        if (dup) return dup;
        ws();
        if (text[i++] === ']') return undefined;
      }
    }
    if (c === '"') {
      str();
      return undefined;
    }
    while (i < text.length && !',}] \n\r\t'.includes(text[i]!)) i++; // number, true, false, null
    return undefined;
  };
  return value('');
}
