import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { StudioError } from '../errors';

/** model.json of a WavFusion bundle (written by training/wavfusion/export.py). Unknown keys are kept. */
export const ModelManifest = z.looseObject({
  name: z.string().min(1),
  version: z.string().min(1),
  labels: z.array(z.string().min(1)).min(2),
  sample_rate: z.number().int().positive(),
  max_seconds: z.number().positive(),
  min_samples: z.number().int().nonnegative().default(400),
  tokenizer: z.string().default('tokenizer.json'),
  model: z.string().default('model.onnx'),
  max_text_tokens: z.number().int().positive().default(128),
  empty_text_ids: z.array(z.number().int().nonnegative()).min(1),
  pad_token_id: z.number().int().nonnegative().default(1),
  /**
   * A model whose utterance statistics are normalised by the speaker (training/wavfusion/speakers.py):
   * `statistics_model` gives each utterance's statistics, a speaker's mean and standard deviation of
   * them (from `min_utterances` utterances on) go into the graph's extra input, NaN for none.
   */
  speaker_normalisation: z
    .strictObject({
      input: z.literal('speaker_statistics'),
      statistics_model: z.string().min(1),
      dimension: z.number().int().positive(),
      min_utterances: z.number().int().positive(),
    })
    .optional(),
});
export type ModelManifest = z.infer<typeof ModelManifest>;

export interface ModelBundle {
  dir: string;
  manifest: ModelManifest;
  modelPath: string;
  /** statistics.onnx of a speaker-normalised bundle (manifest.speaker_normalisation); null otherwise. */
  statisticsModelPath: string | null;
  tokenizerJson: Record<string, unknown>;
  /** SHA-256 of model.onnx: identifies the model version together with name and version. */
  checksum: string;
}

/** The graph's required interface: name → [element type, rank]. */
export const REQUIRED_INPUTS = {
  audio: ['float32', 2],
  audio_lengths: ['int64', 1],
  input_ids: ['int64', 2],
  attention_mask: ['int64', 2],
} as const;
export const REQUIRED_OUTPUTS = {
  logits: ['float32', 2],
  embedding: ['float32', 2],
  text_gate: ['float32', 1],
} as const;

const bundleError = (dir: string, problem: string) =>
  new StudioError('unsupported', `Model bundle ${dir} does not fit the WavFusion bundle contract: ${problem}`);

/** Reads and checks model.json and tokenizer.json of a bundle folder (the graph is checked on load). */
export async function readModelBundle(folder: string): Promise<ModelBundle> {
  const dir = path.resolve(folder);
  let raw: unknown;
  try {
    raw = JSON.parse(await fs.readFile(path.join(dir, 'model.json'), 'utf8'));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw bundleError(dir, code === 'ENOENT' ? 'no model.json in the folder' : `model.json ${unreadable(err)}`);
  }
  const parsed = ModelManifest.safeParse(raw);
  if (!parsed.success) {
    throw bundleError(
      dir,
      `model.json: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`,
    );
  }
  const manifest = parsed.data;
  if (new Set(manifest.labels).size !== manifest.labels.length)
    throw bundleError(dir, 'model.json: labels are not unique');
  const modelPath = insideBundle(dir, manifest.model, 'model');
  const tokenizerPath = insideBundle(dir, manifest.tokenizer, 'tokenizer');
  const normalisation = manifest.speaker_normalisation;
  const statisticsModelPath = normalisation
    ? insideBundle(dir, normalisation.statistics_model, 'speaker_normalisation.statistics_model')
    : null;
  if (statisticsModelPath && !(await fs.stat(statisticsModelPath).catch(() => null))?.isFile()) {
    throw bundleError(dir, `no ${normalisation!.statistics_model} in the folder (model.json's speaker_normalisation)`);
  }
  let checksum: string;
  try {
    checksum = await sha256File(modelPath);
  } catch {
    throw bundleError(dir, `no ${manifest.model} in the folder`);
  }
  let tokenizerJson: Record<string, unknown>;
  try {
    tokenizerJson = JSON.parse(await fs.readFile(tokenizerPath, 'utf8')) as Record<string, unknown>;
  } catch (err) {
    throw bundleError(dir, `${manifest.tokenizer} ${unreadable(err)}`);
  }
  if (typeof tokenizerJson.model !== 'object' || tokenizerJson.model === null) {
    throw bundleError(dir, `${manifest.tokenizer} is not a Hugging Face tokenizers file (no "model")`);
  }
  return { dir, manifest, modelPath, statisticsModelPath, tokenizerJson, checksum };
}

/**
 * A file named by model.json, which must lie inside the bundle folder: a relative path without `..`
 * (symbolic links inside the folder are fine: the Hugging Face cache is made of them).
 */
function insideBundle(dir: string, name: string, key: string): string {
  const file = path.resolve(dir, name);
  if (path.isAbsolute(name) || !file.startsWith(dir + path.sep)) {
    throw bundleError(dir, `model.json: ${key} must name a file inside the bundle folder`);
  }
  return file;
}

/** Why a bundle file could not be used, without quoting its contents (a JSON parser's message does). */
function unreadable(err: unknown): string {
  if (err instanceof SyntaxError) {
    const at = /position (\d+)/.exec(err.message)?.[1];
    return `is not valid JSON${at ? ` (at byte ${at})` : ''}`;
  }
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'is not in the folder';
  return `cannot be read (${code ?? 'error'})`;
}

/** SHA-256 of a file, streamed (a base-size model.onnx is close to 1 GB). */
async function sha256File(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 4 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

interface ValueMeta {
  name: string;
  isTensor: boolean;
  type?: string;
  shape?: readonly (number | string)[];
}

/** The extra input of a speaker-normalised graph: [batch, 2, dimension] float32. */
export const SPEAKER_STATISTICS_INPUT = { speaker_statistics: ['float32', 3] } as const;

/**
 * Checks a loaded graph's inputs and outputs against the contract; one error lists every mismatch.
 * `speakerNormalised`: the graph also takes `speaker_statistics` (model.json's speaker_normalisation).
 */
export function checkGraphInterface(
  dir: string,
  inputs: readonly ValueMeta[],
  outputs: readonly ValueMeta[],
  labelCount: number,
  speakerNormalised = false,
): void {
  const problems: string[] = [];
  const check = (kind: string, actual: readonly ValueMeta[], required: Record<string, readonly [string, number]>) => {
    const byName = new Map(actual.map((m) => [m.name, m]));
    for (const [name, [type, rank]] of Object.entries(required)) {
      const meta = byName.get(name);
      if (!meta) {
        problems.push(`missing ${kind} "${name}" (${kind}s are: ${actual.map((m) => m.name).join(', ') || 'none'})`);
        continue;
      }
      if (!meta.isTensor) problems.push(`${kind} "${name}" is not a tensor`);
      else {
        if (meta.type && meta.type !== type) problems.push(`${kind} "${name}" is ${meta.type}, expected ${type}`);
        if (meta.shape && meta.shape.length !== rank)
          problems.push(`${kind} "${name}" has rank ${meta.shape.length}, expected ${rank}`);
      }
    }
    if (kind === 'input') {
      for (const m of actual) if (!(m.name in required)) problems.push(`unexpected input "${m.name}"`);
    }
  };
  check('input', inputs, speakerNormalised ? { ...REQUIRED_INPUTS, ...SPEAKER_STATISTICS_INPUT } : REQUIRED_INPUTS);
  check('output', outputs, REQUIRED_OUTPUTS);
  const logits = outputs.find((o) => o.name === 'logits');
  const classes = logits?.shape?.[1];
  if (typeof classes === 'number' && classes !== labelCount) {
    problems.push(`logits has ${classes} classes but model.json lists ${labelCount} labels`);
  }
  if (problems.length) throw bundleError(dir, problems.join('; '));
}
