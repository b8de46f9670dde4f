import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InferenceEngine, type PredictRequest, type PredictResult } from '../../src/main/inference/engine';
import { readModelBundle } from '../../src/main/inference/model-bundle';
import { AUDIO_FIXTURES, DEMO_CORPUS, DEMO_MODEL, REPO_ROOT, tempDir, writeTestWav } from '../helpers/fixtures';

async function collect(engine: InferenceEngine, requests: PredictRequest[]): Promise<PredictResult[]> {
  const out: PredictResult[] = [];
  for await (const chunk of engine.predict(requests)) out.push(...chunk);
  return out;
}

const ok = (r: PredictResult) => {
  if (!r.ok) throw new Error(`${r.key}: ${r.error}`);
  return r;
};

function copyBundle(): string {
  const dir = tempDir('bundle-');
  for (const f of fs.readdirSync(DEMO_MODEL)) fs.copyFileSync(path.join(DEMO_MODEL, f), path.join(dir, f));
  return dir;
}

describe('model bundles', () => {
  it('the demo bundle is present', () => {
    expect(fs.existsSync(path.join(DEMO_MODEL, 'model.onnx')), `missing ${DEMO_MODEL}: train it with training/`).toBe(
      true,
    );
  });

  it('refuses a folder without model.json', async () => {
    await expect(readModelBundle(tempDir())).rejects.toThrow(
      /does not fit the WavFusion bundle contract: no model\.json/,
    );
  });

  it('refuses a graph with the wrong inputs, naming each mismatch', async () => {
    await expect(
      InferenceEngine.load(path.join(REPO_ROOT, 'tests/fixtures/models/wrong-inputs'), { device: 'cpu' }),
    ).rejects.toThrow(
      /missing input "audio" \(inputs are: waveform, text\).*unexpected input "waveform".*missing output "embedding"/,
    );
  });

  it('refuses model.json whose labels do not match the logits', async () => {
    const dir = copyBundle();
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8'));
    manifest.labels = manifest.labels.slice(0, 3);
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(manifest));
    await expect(InferenceEngine.load(dir, { device: 'cpu' })).rejects.toThrow(
      /logits has \d+ classes but model\.json lists 3 labels/,
    );
  });

  it('refuses a model.json missing required fields, listing them', async () => {
    const dir = copyBundle();
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ name: 'x', version: '1' }));
    await expect(readModelBundle(dir)).rejects.toThrow(/labels: .*sample_rate: .*empty_text_ids/);
  });

  it('refuses a corrupt model.onnx with the loader error', async () => {
    const dir = copyBundle();
    fs.writeFileSync(path.join(dir, 'model.onnx'), 'not a graph');
    await expect(InferenceEngine.load(dir, { device: 'cpu' })).rejects.toThrow(/model\.onnx cannot be loaded/);
  });
});

describe('inference engine', () => {
  let engine: InferenceEngine;
  beforeAll(async () => {
    engine = await InferenceEngine.load(DEMO_MODEL, { device: 'auto', batchSeconds: 30 });
  });
  afterAll(async () => {
    await engine.close();
  });

  it('falls back to the CPU with a reason when no GPU backend is usable', () => {
    expect(['cpu', 'cuda', 'webgpu']).toContain(engine.device);
    if (engine.device === 'cpu') expect(engine.deviceNote).toMatch(/CUDA.*; CPU with \d+ threads/);
  });

  it('gives the same probabilities for an utterance alone and inside a padded batch', async () => {
    const speakers = fs.readdirSync(DEMO_CORPUS).sort();
    const requests: PredictRequest[] = speakers.flatMap((s, i) =>
      fs
        .readdirSync(path.join(DEMO_CORPUS, s))
        .filter((f) => f.endsWith('.wav'))
        .slice(i, i + 2)
        .map((f) => {
          const file = path.join(DEMO_CORPUS, s, f);
          return {
            key: file,
            path: file,
            start: null,
            end: null,
            text: fs.readFileSync(file.replace('.wav', '.txt'), 'utf8'),
          };
        }),
    );
    requests.push({
      key: 'stereo',
      path: path.join(AUDIO_FIXTURES, 'speech-44k-stereo.wav'),
      start: 0.2,
      end: 1.1,
      text: null,
    });
    const batched = (await collect(engine, requests)).map(ok);
    for (const request of requests) {
      const [alone] = (await collect(engine, [request])).map(ok);
      const inBatch = batched.find((b) => b.key === request.key)!;
      const diff = Math.max(...alone!.probabilities.map((p, k) => Math.abs(p - inBatch.probabilities[k]!)));
      expect(diff, request.key).toBeLessThanOrEqual(1e-4);
      expect(alone!.probabilities.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 5);
    }
  });

  it('uses the empty-text input without a transcript and says so', async () => {
    const file = path.join(AUDIO_FIXTURES, 'speech.wav');
    const [withText, withoutText] = (
      await collect(engine, [
        { key: 'a', path: file, start: null, end: null, text: 'I am so happy today!' },
        { key: 'b', path: file, start: null, end: null, text: '   ' },
      ])
    ).map(ok);
    expect(withText!.textUsed).toBe(true);
    expect(withoutText!.textUsed).toBe(false);
    expect(withText!.textGate).toBeGreaterThanOrEqual(0);
    expect(withText!.textGate).toBeLessThanOrEqual(1);
  });

  it('cuts an utterance longer than max_seconds into overlapping windows and pools them', async () => {
    const file = path.join(tempDir(), 'long.wav');
    const maxSeconds = engine.bundle.manifest.max_seconds;
    writeTestWav(file, maxSeconds * 2.5);
    const [r] = (await collect(engine, [{ key: 'long', path: file, start: null, end: null, text: null }])).map(ok);
    expect(r!.windows).toBeGreaterThanOrEqual(3);
    expect(r!.probabilities.every((p) => Number.isFinite(p))).toBe(true);
    expect(r!.durationS).toBeCloseTo(maxSeconds * 2.5, 2);
  });
});

describe('long recordings', () => {
  it('streams a large whole file window by window with the same result as decoding it at once', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'long.wav');
    writeTestWav(file, 27);
    const inMemory = await InferenceEngine.load(DEMO_MODEL, { device: 'cpu' });
    const streaming = await InferenceEngine.load(DEMO_MODEL, { device: 'cpu', streamAboveBytes: 1000 });
    try {
      const request = { key: 'long', path: file, start: null, end: null, text: 'a long recording' };
      const [a] = (await collect(inMemory, [request])).map(ok);
      const [b] = (await collect(streaming, [request])).map(ok);
      expect(b!.windows).toBe(a!.windows);
      expect(b!.durationS).toBeCloseTo(a!.durationS, 6);
      const diff = Math.max(...a!.probabilities.map((p, k) => Math.abs(p - b!.probabilities[k]!)));
      expect(diff).toBeLessThanOrEqual(1e-5);
      // Errors are reported the same way on the streaming path.
      fs.writeFileSync(path.join(dir, 'cut.wav'), fs.readFileSync(file).subarray(0, 400_000));
      const [bad] = await collect(streaming, [{ ...request, key: 'cut', path: path.join(dir, 'cut.wav') }]);
      expect(bad).toMatchObject({ ok: false, error: expect.stringMatching(/^truncated WAV/) });
    } finally {
      await inMemory.close();
      await streaming.close();
    }
  });
});

describe('wavfusion predict', () => {
  it('predicts every good file and reports every bad one by name and reason, with bounded memory', () => {
    const dir = tempDir('predict-');
    fs.copyFileSync(path.join(AUDIO_FIXTURES, 'speech.flac'), path.join(dir, 'good.flac'));
    fs.copyFileSync(path.join(AUDIO_FIXTURES, 'speech-44k-stereo.wav'), path.join(dir, 'stereo.wav'));
    fs.writeFileSync(path.join(dir, 'stereo.txt'), 'What a wonderful day!');
    fs.writeFileSync(path.join(dir, 'empty.wav'), '');
    const wav = fs.readFileSync(path.join(AUDIO_FIXTURES, 'speech.wav'));
    fs.writeFileSync(path.join(dir, 'truncated.wav'), wav.subarray(0, 5000));
    fs.writeFileSync(
      path.join(dir, 'random.wav'),
      Buffer.from(Array.from({ length: 8192 }, (_, i) => (i * 131) % 256)),
    );
    const silence = Buffer.from(wav);
    silence.fill(0, 44);
    fs.writeFileSync(path.join(dir, 'silence.wav'), silence);
    writeTestWav(path.join(dir, 'clip30ms.wav'), 0.03);
    writeTestWav(path.join(dir, 'ten-minutes.wav'), 600);
    const out = path.join(dir, 'predictions.jsonl');
    const run = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        'tests/helpers/serve-entry.ts',
        'predict',
        dir,
        '--model',
        DEMO_MODEL,
        '--out',
        out,
        '--device',
        'cpu',
      ],
      { cwd: REPO_ROOT, encoding: 'utf8', timeout: 300_000 },
    );
    expect(run.status, run.stderr).toBe(3);
    const lines = fs
      .readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    const byName = Object.fromEntries(lines.map((l) => [path.basename(l.path), l]));
    expect(Object.keys(byName).sort()).toEqual(
      [
        'clip30ms.wav',
        'empty.wav',
        'good.flac',
        'random.wav',
        'silence.wav',
        'stereo.wav',
        'ten-minutes.wav',
        'truncated.wav',
      ].sort(),
    );
    expect(byName['empty.wav'].error).toBe('empty file (0 bytes)');
    expect(byName['truncated.wav'].error).toMatch(/truncated WAV/);
    expect(byName['random.wav'].error).toMatch(/not an audio file/);
    for (const name of ['good.flac', 'stereo.wav', 'silence.wav', 'clip30ms.wav', 'ten-minutes.wav']) {
      const l = byName[name];
      expect(l.error, name).toBeUndefined();
      expect(Object.keys(l.scores)).toEqual(
        JSON.parse(fs.readFileSync(path.join(DEMO_MODEL, 'model.json'), 'utf8')).labels,
      );
      expect(Object.values(l.scores as Record<string, number>).reduce((a, b) => a + b, 0)).toBeCloseTo(1, 4);
      expect(l.label).toBe(Object.entries(l.scores as Record<string, number>).sort((a, b) => b[1] - a[1])[0]![0]);
    }
    expect(byName['stereo.wav'].text_used).toBe(true);
    expect(byName['good.flac'].text_used).toBe(false);
    expect(byName['ten-minutes.wav'].duration_s).toBeCloseTo(600, 1);
    expect(run.stderr).toMatch(/predicted 5, failed 3; audio 0\.168 h/);
    const peak = Number(/peak memory (\d+) MB/.exec(run.stderr)![1]);
    expect(peak).toBeLessThan(1500);
  });

  it('exits 2 with usage on bad arguments', () => {
    const run = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'tests/helpers/serve-entry.ts', 'predict', REPO_ROOT, '--device', 'tpu'],
      {
        cwd: REPO_ROOT,
        encoding: 'utf8',
      },
    );
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/--device must be auto, cpu, cuda or webgpu/);
  });
});
