import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { Device, Precision } from '../../shared/contract';
import { scanFolder } from '../import/folder';
import { isManifestPath, readManifest } from '../import/manifest';
import type { PredictRequest } from '../inference/engine';
import { InferenceWorker } from '../inference/inference-worker-client';
import { DEMO_MODEL_LOCATION, resolveModelLocation } from '../inference/prediction-service';
import { finishedKeys, itemKey, mergePredictionLines, parseShard, shardOf } from './shards';

export class UsageError extends Error {}

export const PREDICT_USAGE = `  wavfusion predict INPUT [--model DIR] [--out FILE.jsonl] [--device auto|cpu|cuda|webgpu]
                   [--batch-seconds N] [--threads N] [--precision auto|fp32|int8]
                   [--shard K/N --out FILE.jsonl] [--resume]
                                                   pre-label a folder or a .csv/.jsonl manifest;
                                                   auto precision: int8 on the CPU when the bundle has it;
                                                   --shard: only the items hashing to K of N (0-based),
                                                   one item per model run (shards merge byte for byte
                                                   with a --shard 0/1 run);
                                                   with --shard or --resume, items already in --out are
                                                   skipped (resume after a kill);
                                                   exit 0: all predicted, 3: some inputs failed`;

export const MERGE_USAGE = `  wavfusion merge-predictions SHARD.jsonl... [--out FILE.jsonl]
                                                   join predict --shard outputs, one line per item,
                                                   sorted by path and segment`;

interface Line {
  path: string;
  [key: string]: unknown;
}

/** `wavfusion predict`: one JSON line per input, a summary on stderr, a progress bar on a TTY. */
export async function predictCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      model: { type: 'string' },
      out: { type: 'string' },
      device: { type: 'string', default: 'auto' },
      'batch-seconds': { type: 'string' },
      threads: { type: 'string' },
      precision: { type: 'string', default: 'auto' },
      shard: { type: 'string' },
      resume: { type: 'boolean', default: false },
    },
  });
  if (positionals.length !== 1)
    throw new UsageError('predict needs exactly one INPUT (a folder or a .csv/.jsonl manifest)');
  const requestedDevice = Device.safeParse(values.device);
  if (!requestedDevice.success)
    throw new UsageError(`--device must be auto, cpu, cuda or webgpu, got ${values.device}`);
  const batchSeconds = values['batch-seconds'] === undefined ? undefined : Number(values['batch-seconds']);
  if (batchSeconds !== undefined && !(batchSeconds > 0))
    throw new UsageError(`--batch-seconds must be a positive number, got ${values['batch-seconds']}`);
  const precision = Precision.safeParse(values.precision);
  if (!precision.success) throw new UsageError(`--precision must be auto, fp32 or int8, got ${values.precision}`);
  let shard;
  try {
    shard = values.shard === undefined ? undefined : parseShard(values.shard);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const resume = values.resume || shard !== undefined;
  if (resume && !values.out) throw new UsageError('--shard and --resume need --out FILE.jsonl');
  const threads = values.threads === undefined ? undefined : Number(values.threads);
  if (threads !== undefined && !(Number.isInteger(threads) && threads > 0))
    throw new UsageError(`--threads must be a positive integer`);
  const input = path.resolve(positionals[0]!);
  if (!fs.existsSync(input)) throw new UsageError(`INPUT not found: ${input}`);

  const lines: Line[] = [];
  const requests: PredictRequest[] = [];
  if (fs.statSync(input).isDirectory()) {
    const scan = await scanFolder(input);
    for (const p of scan.problems) lines.push({ path: p.path, error: p.reason });
    for (const item of scan.items) {
      requests.push({ key: item.path, path: item.path, start: null, end: null, text: item.transcript });
    }
  } else if (isManifestPath(input)) {
    const { rows, problems } = readManifest(input);
    for (const p of problems) lines.push({ path: `${input}:${p.line}`, error: p.reason });
    rows.forEach((r, i) =>
      requests.push({ key: `${i}`, path: r.path, start: r.start, end: r.end, text: r.text, speaker: r.speaker }),
    );
  } else throw new UsageError('INPUT must be a folder or a .csv/.jsonl manifest');
  const total = requests.length + lines.length;
  // a speaker-normalised model reads each speaker's statistics from all of the input, whatever this run does
  const statisticsPool = [...requests];
  const done = resume ? finishedKeys(values.out!) : new Set<string>();
  const todo = (key: string) => (!shard || shardOf(key, shard.count) === shard.index) && !done.has(key);
  const mine = lines.filter((l) => todo(itemKey(l)));
  lines.splice(0, lines.length, ...mine);
  const pending = requests.filter((r) => todo(itemKey(r)));
  requests.splice(0, requests.length, ...pending);
  if (shard || done.size)
    process.stderr.write(
      `${shard ? `shard ${shard.index}/${shard.count}: ` : ''}${requests.length + lines.length} to do of ${total} ` +
        `(${done.size} already in ${values.out})\n`,
    );

  const out = values.out ? fs.createWriteStream(values.out, { flags: resume ? 'a' : 'w' }) : process.stdout;
  const write = (line: Line) => out.write(`${JSON.stringify(line)}\n`);
  for (const l of lines) write(l);

  const modelDir = path.resolve(values.model ?? resolveModelLocation(DEMO_MODEL_LOCATION));
  const worker = new InferenceWorker();
  const started = Date.now();
  let ok = 0;
  let failed = lines.length;
  let audioSeconds = 0;
  const tty = process.stderr.isTTY;
  let loaded;
  try {
    loaded = await worker.load(modelDir, {
      device: requestedDevice.data,
      precision: precision.data,
      threads,
      batchSeconds,
      // each line independent of its batch-mates, so that shards merge byte for byte with a --shard 0/1 run
      oneItemPerRun: shard !== undefined,
    });
  } catch (err) {
    await worker.close();
    throw err;
  }
  try {
    const labels = loaded.manifest.labels;
    const byKey = new Map(requests.map((r) => [r.key, r]));
    let done = 0;
    for await (const results of worker.predict(requests, undefined, { statisticsPool })) {
      for (const r of results) {
        const request = byKey.get(r.key)!;
        const segment =
          request.start !== null || request.end !== null ? { start: request.start, end: request.end } : {};
        if (!r.ok) {
          failed++;
          write({ path: request.path, ...segment, error: r.error });
          continue;
        }
        ok++;
        audioSeconds += r.durationS;
        const best = r.probabilities.indexOf(Math.max(...r.probabilities));
        write({
          path: request.path,
          ...segment,
          label: labels[best],
          scores: Object.fromEntries(labels.map((l, i) => [l, round(r.probabilities[i]!)])),
          text_gate: round(r.textGate),
          text_used: r.textUsed,
          duration_s: round(r.durationS),
          precision: loaded.precision,
        });
      }
      done += results.length;
      if (tty) progressBar(done, requests.length, audioSeconds, (Date.now() - started) / 1000);
    }
  } finally {
    await worker.close();
    if (out !== process.stdout) await new Promise((r) => (out as fs.WriteStream).end(r));
  }
  const elapsed = (Date.now() - started) / 1000;
  if (tty) process.stderr.write('\n');
  process.stderr.write(
    `predicted ${ok}, failed ${failed}; audio ${(audioSeconds / 3600).toFixed(3)} h in ${elapsed.toFixed(1)} s ` +
      `(${(audioSeconds / Math.max(elapsed, 1e-9)).toFixed(1)}× real time); device ${loaded.device} (${loaded.note}), ` +
      `${loaded.precision}; ` +
      `peak memory ${Math.round(process.resourceUsage().maxRSS / 1024)} MB\n`,
  );
  return failed > 0 ? 3 : 0;
}

/** `wavfusion merge-predictions`: shard JSONL files joined and sorted (equal to one unsharded run, sorted). */
export function mergeCommand(args: string[]): number {
  const { values, positionals } = parseArgs({ args, allowPositionals: true, options: { out: { type: 'string' } } });
  if (!positionals.length) throw new UsageError('merge-predictions needs one or more SHARD.jsonl files');
  for (const f of positionals) if (!fs.existsSync(f)) throw new UsageError(`not found: ${f}`);
  const { lines, duplicates } = mergePredictionLines(positionals);
  const text = lines.map((l) => `${l}\n`).join('');
  if (values.out) fs.writeFileSync(values.out, text);
  else process.stdout.write(text);
  const failed = lines.filter((l) => (JSON.parse(l) as { error?: string }).error !== undefined).length;
  process.stderr.write(
    `merged ${positionals.length} file(s): ${lines.length} item(s), ${failed} failed` +
      `${duplicates ? `, ${duplicates} duplicate line(s) dropped` : ''}\n`,
  );
  return 0;
}

const round = (v: number) => Math.round(v * 1e6) / 1e6;

function progressBar(done: number, total: number, audioSeconds: number, elapsed: number): void {
  const width = 30;
  const filled = total ? Math.round((width * done) / total) : width;
  const rate = elapsed > 0 ? audioSeconds / elapsed : 0;
  const eta = done > 0 ? ((total - done) * elapsed) / done : 0;
  process.stderr.write(
    `\r[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}  ${rate.toFixed(1)}× real time  ETA ${eta.toFixed(0)} s `,
  );
}
