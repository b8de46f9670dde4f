import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Studio } from '../../src/main/api/studio';
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
  const n = Math.round(seconds * sampleRate);
  const data = Buffer.alloc(44 + n * 2);
  data.write('RIFF', 0, 'ascii');
  data.writeUInt32LE(36 + n * 2, 4);
  data.write('WAVEfmt ', 8, 'ascii');
  data.writeUInt32LE(16, 16);
  data.writeUInt16LE(1, 20);
  data.writeUInt16LE(1, 22);
  data.writeUInt32LE(sampleRate, 24);
  data.writeUInt32LE(sampleRate * 2, 28);
  data.writeUInt16LE(2, 32);
  data.writeUInt16LE(16, 34);
  data.write('data', 36, 'ascii');
  data.writeUInt32LE(n * 2, 40);
  for (let i = 0; i < n; i++) {
    const t = i / sampleRate;
    const f0 = 120 + 30 * Math.sin(2 * Math.PI * 0.5 * t);
    const env = 0.5 + 0.5 * Math.sin(2 * Math.PI * 3 * t);
    const v =
      env *
      (0.3 * Math.sin(2 * Math.PI * f0 * t) +
        0.15 * Math.sin(4 * Math.PI * f0 * t) +
        0.08 * Math.sin(6 * Math.PI * f0 * t));
    data.writeInt16LE(Math.round(v * 0x7fff), 44 + i * 2);
  }
  fs.writeFileSync(file, data);
}
