import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stringify } from 'csv-stringify/sync';
import { VadParams } from '../../shared/contract';
import { isAudioPath } from '../audio/decode';
import { describeError } from '../errors';
import { SileroVad, speechSegments } from '../inference/vad';
import { UsageError } from './predict-command';

export const SEGMENT_USAGE = `  wavfusion segment INPUT [--json|--csv] [--threshold P] [--min-speech-ms N] [--min-silence-ms N]
                   [--padding-ms N] [--max-segment-s N]
                                                   find speech (Silero VAD v5) in an audio file or the audio
                                                   files of a folder; JSON (default) or CSV (path,start,end)
                                                   on stdout; exit 0: all read, 3: some files failed`;

const NUMBER_OPTIONS = {
  threshold: 'threshold',
  'min-speech-ms': 'minSpeechMs',
  'min-silence-ms': 'minSilenceMs',
  'padding-ms': 'paddingMs',
  'max-segment-s': 'maxSegmentS',
} as const;

/** `wavfusion segment`: the studio's VAD, with the same parameters and defaults, without a project. */
export async function segmentCommand(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      json: { type: 'boolean', default: false },
      csv: { type: 'boolean', default: false },
      ...Object.fromEntries(Object.keys(NUMBER_OPTIONS).map((k) => [k, { type: 'string' as const }])),
    },
  });
  if (positionals.length !== 1) throw new UsageError('segment needs exactly one INPUT (an audio file or a folder)');
  if (values.json && values.csv) throw new UsageError('choose one of --json and --csv');
  const raw: Record<string, number> = {};
  for (const [flag, key] of Object.entries(NUMBER_OPTIONS)) {
    const v = (values as Record<string, unknown>)[flag];
    if (typeof v !== 'string') continue;
    if (!/^\d+(\.\d+)?$/.test(v)) throw new UsageError(`--${flag} must be a number, got ${v}`);
    raw[key] = Number(v);
  }
  const parsed = VadParams.safeParse(raw);
  if (!parsed.success)
    throw new UsageError(parsed.error.issues.map((i) => `${String(i.path[0])}: ${i.message}`).join('; '));
  const params = parsed.data;
  const input = path.resolve(positionals[0]!);
  if (!fs.existsSync(input)) throw new UsageError(`no such file or folder: ${input}`);
  const files = fs.statSync(input).isDirectory()
    ? (fs.readdirSync(input, { recursive: true }) as string[])
        .map((f) => path.join(input, f))
        .filter((f) => isAudioPath(f) && fs.statSync(f).isFile())
        .sort()
    : [input];
  const vad = await SileroVad.load();
  const results: { path: string; duration?: number; segments?: { start: number; end: number }[]; error?: string }[] =
    [];
  try {
    for (const file of files) {
      try {
        const scores = await vad.scoreFile(file);
        const segments = speechSegments(scores, params).map((s) => ({ start: round(s.start), end: round(s.end) }));
        results.push({ path: file, duration: round(scores.duration), segments });
      } catch (err) {
        results.push({ path: file, error: describeError(err) });
      }
    }
  } finally {
    await vad.close();
  }
  if (values.csv) {
    const rows = results.flatMap((r) => (r.segments ?? []).map((s) => [r.path, s.start, s.end]));
    process.stdout.write(stringify([['path', 'start', 'end'], ...rows]));
  } else process.stdout.write(`${JSON.stringify({ params, files: results }, null, 2)}\n`);
  const failed = results.filter((r) => r.error);
  for (const f of failed) process.stderr.write(`wavfusion segment: ${f.path}: ${f.error}\n`);
  const found = results.reduce((a, r) => a + (r.segments?.length ?? 0), 0);
  process.stderr.write(`${found} segment(s) in ${results.length - failed.length} file(s), ${failed.length} failed\n`);
  return failed.length > 0 ? 3 : 0;
}

const round = (s: number) => Math.round(s * 1000) / 1000;
