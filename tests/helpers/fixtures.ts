import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Studio } from '../../src/main/api/studio';
import { encodeWav16 } from '../../src/main/audio/wav';
import type { JobStatus } from '../../src/shared/contract';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const AUDIO_FIXTURES = path.join(REPO_ROOT, 'tests', 'fixtures', 'audio');
export const DEMO_CORPUS = path.join(REPO_ROOT, 'resources', 'demo', 'corpus');

/** A fresh temporary folder, removed after the test run by the OS tmp cleaner (and by callers). */
export function tempDir(prefix = 'wavfusion-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function copyInto(folder: string, files: string[]): string[] {
  fs.mkdirSync(folder, { recursive: true });
  return files.map((f) => {
    const target = path.join(folder, path.basename(f));
    fs.copyFileSync(f, target);
    return target;
  });
}

export function demoClips(speaker: string, n: number): string[] {
  const dir = path.join(DEMO_CORPUS, speaker);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .slice(0, n)
    .map((f) => path.join(dir, f));
}

/** Runs an import through the job runner, as the API does, and returns the final job status. */
export async function runImport(studio: Studio, source: string): Promise<JobStatus> {
  const id = studio.jobs.start('import', 'test import', (ctx) => studio.importer.importPath(source, ctx));
  return studio.jobs.wait(id);
}

export function openTempStudio(): { studio: Studio; dir: string; file: string } {
  const dir = tempDir();
  const file = path.join(dir, 'project.sqlite');
  return { studio: Studio.open(file), dir, file };
}

/** The model every inference test runs: the demo bundle the app ships. */
export const DEMO_MODEL =
  process.env.WAVFUSION_TEST_MODEL ?? path.join(REPO_ROOT, 'resources', 'models', 'wavfusion-demo');

/** Writes a 16-bit mono WAV of `seconds` of a speech-like test signal (vowel-ish harmonics, AM). */
export function writeTestWav(file: string, seconds: number, sampleRate = 16000): void {
  const samples = new Float32Array(Math.round(seconds * sampleRate));
  for (let i = 0; i < samples.length; i++) {
    const t = i / sampleRate;
    const f0 = 120 + 30 * Math.sin(2 * Math.PI * 0.5 * t);
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    samples[i] =
      env *
      (0.3 * Math.sin(2 * Math.PI * f0 * t) +
        0.15 * Math.sin(4 * Math.PI * f0 * t) +
        0.08 * Math.sin(6 * Math.PI * f0 * t));
  }
  fs.writeFileSync(file, encodeWav16(samples, sampleRate));
}
