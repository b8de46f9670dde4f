import AxeBuilder from '@axe-core/playwright';
import { test as base, expect, type Page } from '@playwright/test';
import Database from 'better-sqlite3';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const REPO_ROOT = path.resolve(import.meta.dirname, '..', '..');
export const DEMO_CORPUS = path.join(REPO_ROOT, 'resources', 'demo', 'corpus');
export const SCREENSHOTS = path.join(REPO_ROOT, 'test-results', 'screenshots');

const BUILT = [path.join(REPO_ROOT, 'out', 'main', 'cli.js'), path.join(REPO_ROOT, 'out', 'renderer', 'index.html')];

/** A running `wavfusion serve`: the URL to open (token included) and where its data lives. */
export interface StudioHost {
  url: string;
  origin: string;
  /** WAVFUSION_HOME of this host: the demo project is created fresh in here. */
  home: string;
  stdout: () => string;
}

/**
 * Starts `node bin/wavfusion.mjs serve --port 0` with a fresh WAVFUSION_HOME (the demo project, unless
 * `project` names another project file) and resolves once it printed its URL.
 */
export async function startHost(
  options: { project?: string; env?: NodeJS.ProcessEnv } = {},
): Promise<StudioHost & { stop(): Promise<void> }> {
  const missing = BUILT.filter((f) => !fs.existsSync(f));
  if (missing.length) {
    throw new Error(
      `The app is not built (missing ${missing.map((f) => path.relative(REPO_ROOT, f)).join(', ')}). ` +
        'Run `npx electron-vite build` before the e2e tests.',
    );
  }
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'wavfusion-e2e-home-'));
  const env: NodeJS.ProcessEnv = { ...process.env, WAVFUSION_HOME: home, ...options.env };
  delete env.WAVFUSION_TOKEN;
  const args = [
    'bin/wavfusion.mjs',
    'serve',
    '--port',
    '0',
    ...(options.project ? ['--project', options.project] : []),
  ];
  const child = spawn(process.execPath, args, { cwd: REPO_ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));

  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => fail(new Error(`wavfusion serve printed no URL within 30 s.\n${out}\n${err}`)),
      30_000,
    );
    const check = () => {
      const match = /^(http:\/\/127\.0\.0\.1:\d+\/\?token=\S+)$/m.exec(out);
      if (match) {
        cleanup();
        resolve(match[1]!);
      }
    };
    const onExit = (code: number | null) => fail(new Error(`wavfusion serve exited (${code}) before serving:\n${err}`));
    const fail = (e: Error) => {
      cleanup();
      child.kill('SIGKILL');
      reject(e);
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.off('exit', onExit);
    };
    child.stdout.on('data', check);
    child.once('exit', onExit);
    check();
  });

  return {
    url,
    origin: new URL(url).origin,
    home,
    stdout: () => out,
    stop: async () => {
      await stopProcess(child);
      fs.rmSync(home, { recursive: true, force: true });
    },
  };
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
  await exited;
  clearTimeout(timer);
}

/** Opens the studio and waits until the utterance list shows rows. */
export async function openStudio(page: Page, host: StudioHost): Promise<void> {
  await page.goto(host.url);
  await expect(page.getByRole('listbox', { name: 'Utterances' }).getByRole('option').first()).toBeVisible();
}

export function copyDemoClips(speaker: string, folder: string, count = Infinity): string[] {
  fs.mkdirSync(folder, { recursive: true });
  const dir = path.join(DEMO_CORPUS, speaker);
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.wav'))
    .sort()
    .slice(0, count)
    .map((f) => {
      const target = path.join(folder, f);
      fs.copyFileSync(path.join(dir, f), target);
      return target;
    });
}

/** Duration of a PCM WAV from its header (fmt + data chunks). */
export function wavDuration(file: string): number {
  const b = fs.readFileSync(file);
  let offset = 12;
  let byteRate = 0;
  while (offset + 8 <= b.length) {
    const id = b.toString('ascii', offset, offset + 4);
    const size = b.readUInt32LE(offset + 4);
    if (id === 'fmt ') byteRate = b.readUInt32LE(offset + 16);
    if (id === 'data') return Math.min(size, b.length - offset - 8) / byteRate;
    offset += 8 + size + (size % 2);
  }
  throw new Error(`${file} has no data chunk`);
}

/** Writes a PCM WAV of about `seconds` by repeating the speech of a real WAV (same format). */
export function writeLongWav(source: string, target: string, seconds: number): void {
  const b = fs.readFileSync(source);
  let offset = 12;
  let fmt: Buffer | null = null;
  let data: Buffer | null = null;
  while (offset + 8 <= b.length) {
    const id = b.toString('ascii', offset, offset + 4);
    const size = b.readUInt32LE(offset + 4);
    if (id === 'fmt ') fmt = b.subarray(offset + 8, offset + 8 + size);
    if (id === 'data') data = b.subarray(offset + 8, offset + 8 + size);
    offset += 8 + size + (size % 2);
  }
  if (!fmt || !data) throw new Error(`${source} is not a PCM WAV`);
  const byteRate = fmt.readUInt32LE(8);
  const repeats = Math.ceil((seconds * byteRate) / data.length);
  const body = Buffer.concat(Array.from({ length: repeats }, () => data));
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(36 + body.length, 4);
  header.write('WAVE', 8, 'ascii');
  header.write('fmt ', 12, 'ascii');
  header.writeUInt32LE(16, 16);
  fmt.copy(header, 20, 0, 16);
  header.write('data', 36, 'ascii');
  header.writeUInt32LE(body.length, 40);
  fs.writeFileSync(target, Buffer.concat([header, body]));
}

/** The live segments of the project file, in time order (what the core stored, not what the page shows). */
export function storedSegments(
  file: string,
): { id: number; start: number; end: number; label: string | null; review: number }[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        `SELECT u.id, u.start_s AS start, u.end_s AS end, u.needs_review AS review,
                (SELECT l.name FROM annotations a JOIN labels l ON l.id = a.label_id
                  WHERE a.utterance_id = u.id AND a.origin = 'human') AS label
           FROM utterances u WHERE u.removed_at IS NULL ORDER BY u.start_s, u.id`,
      )
      .all() as { id: number; start: number; end: number; label: string | null; review: number }[];
  } finally {
    db.close();
  }
}

/** A small RFC 4180 CSV reader (quotes, escaped quotes, commas and newlines in fields). */
export function parseCsv(text: string): Record<string, string>[] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += c;
  }
  if (field || row.length) {
    row.push(field);
    rows.push(row);
  }
  const [header, ...body] = rows;
  if (!header) return [];
  return body.map((r) => Object.fromEntries(header.map((h, i) => [h, r[i] ?? ''])));
}

type Fixtures = {
  /** A fresh temporary folder for the test's files, removed afterwards. */
  tmp: string;
  /** A loopback host serving a freshly created demo project. */
  host: StudioHost;
};

export const test = base.extend<Fixtures>({
  // eslint-disable-next-line no-empty-pattern
  tmp: async ({}, use) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wavfusion-e2e-'));
    await use(dir);
    fs.rmSync(dir, { recursive: true, force: true });
  },
  // eslint-disable-next-line no-empty-pattern
  host: async ({}, use) => {
    const host = await startHost();
    try {
      await use(host);
    } finally {
      await host.stop();
    }
  },
});

export { expect };

/** Saves a screenshot under test-results/screenshots/ (kept after the run, for review). */
export async function snap(page: Page, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOTS, { recursive: true });
  const file = path.join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * axe-core (WCAG 2.1 A/AA) on the page, or on `include` (a CSS selector) only: no serious or critical
 * violation, else the failure lists each rule and the elements it found.
 */
export async function expectAccessible(page: Page, view: string, include?: string): Promise<void> {
  let builder = new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa']);
  if (include) builder = builder.include(include);
  const { violations } = await builder.analyze();
  const serious = violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.help}\n  ${v.nodes.map((n) => n.target.join(' ')).join('\n  ')}`);
  expect(serious, `${view}:\n${serious.join('\n')}`).toEqual([]);
}
