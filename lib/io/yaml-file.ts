/** Reading a YAML (or JSON) document from a file: an unreadable file is an IoError, bad YAML a SchemaError. */
import { readFileSync } from 'node:fs';

import { parse as parseYaml } from 'yaml';

import { IoError, SchemaError } from '../errors.js';

export function readYamlFile(file: string, what = 'the file'): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new IoError(`${file}: cannot read ${what} (${(e as Error).message})`, file, { cause: e });
  }
  try {
    return parseYaml(text);
  } catch (e) {
    throw new SchemaError(`${file}: not valid YAML: ${(e as Error).message}`, file);
  }
}
