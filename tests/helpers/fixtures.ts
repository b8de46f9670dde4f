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
