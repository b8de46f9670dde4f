import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The application root (holds package.json, resources/ and out/), found from src/ or out/ alike. */
export const APP_ROOT = findAppRoot(path.dirname(fileURLToPath(import.meta.url)));

function findAppRoot(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(path.join(dir, 'resources'))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`WavFusion Studio: cannot find the app folder above ${from}`);
  }
}

export const RESOURCES_DIR = path.join(APP_ROOT, 'resources');
export const DEMO_CORPUS_DIR = path.join(RESOURCES_DIR, 'demo', 'corpus');
export const RENDERER_DIR = path.join(APP_ROOT, 'out', 'renderer');

/** Where the studio keeps its own files (the demo project): $WAVFUSION_HOME or the XDG data folder. */
export function studioDataDir(): string {
  if (process.env.WAVFUSION_HOME) return path.resolve(process.env.WAVFUSION_HOME);
  const xdg = process.env.XDG_DATA_HOME || path.join(os.homedir(), '.local', 'share');
  return path.join(xdg, 'wavfusion-studio');
}

export const demoProjectPath = () => path.join(studioDataDir(), 'demo.sqlite');
