/**
 * What `features.from` points a training run at: a FeatureSelector (feature_selector.json, or a checkpoint
 * folder holding one; each fold then trains on the selection of the latest selector fold whose training
 * ended no later than its own), or a checkpoint trained without one (every fold trains on its features).
 */
import { promises as fs } from 'node:fs';
import path from 'node:path';

import { InvalidArgumentError, NotFoundError, SchemaError } from '../errors.js';
import { FeatureSelector, SELECTOR_FILE_NAME, SELECTOR_FORMAT, type FeatureSelectorState } from './feature-selector.js';

export interface TrainingSelection {
  /** Every feature some fold uses: what the panel must be built with. */
  names: string[];
  /** The features of a fold whose training range ends on `trainEnd` (ISO date). */
  forFold(trainEnd: string): string[];
  /** The selector's state, kept with the checkpoint; absent for a plain checkpoint's feature list. */
  selector?: FeatureSelectorState;
  source: string;
}

async function readJson(file: string): Promise<unknown | undefined> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new SchemaError(`${file}: not valid JSON (${(e as Error).message})`, 'features.from');
  }
}

export async function loadTrainingSelection(from: string): Promise<TrainingSelection> {
  const stat = await fs.stat(from).catch(() => undefined);
  if (!stat) throw new NotFoundError(`features.from: ${from} does not exist`, 'features.from');
  const selectorFile = stat.isDirectory() ? path.join(from, SELECTOR_FILE_NAME) : from;
  const json = await readJson(selectorFile);
  if (json && typeof json === 'object' && (json as { format?: unknown }).format === SELECTOR_FORMAT) {
    const selector = FeatureSelector.fromJSON(json, selectorFile);
    return {
      names: selector.allSelectedFeatures(),
      forFold: (end) => selector.selectFor(end),
      selector: selector.state,
      source: selectorFile,
    };
  }
  const meta = stat.isDirectory() ? await readJson(path.join(from, 'metadata.json')) : undefined;
  const names = (meta as { featureNames?: unknown } | undefined)?.featureNames;
  if (Array.isArray(names) && names.length > 0 && names.every((n) => typeof n === 'string')) {
    const list = names as string[];
    return { names: list, forFold: () => [...list], source: path.join(from, 'metadata.json') };
  }
  throw new InvalidArgumentError(
    `features.from: ${from} is neither a feature_selector.json written by \`tft-native select\` nor a checkpoint folder`,
    'features.from',
  );
}
