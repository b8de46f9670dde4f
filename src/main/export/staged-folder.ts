import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { StudioError } from '../errors';
import { SPLITS } from './split';

/** Entries an export writes at the top of its folder; overwrite replaces only these, and only ours. */
export const EXPORT_ENTRIES: readonly string[] = [
  ...SPLITS,
  'dataset.csv',
  'dataset.jsonl',
  'label_map.json',
  'provenance.json',
];
/** What an export writes inside a split folder: `000042_name.wav` clips and metadata.csv. */
const SPLIT_FILE = /^(\d{6}_[A-Za-z0-9._-]*\.wav|metadata\.csv)$/;
const PARTIAL = '.wavfusion-partial-';
const OLD = '.wavfusion-old-';
/** How many files are fsynced at once before the rename (lets the file system batch its commits). */
const SYNC_PARALLEL = 16;

/**
 * An export's output, written into a hidden temporary sibling of the target folder, fsynced, then
 * renamed into place: the target holds either what it held before or the complete export, never a
 * torn WAV or a metadata-less folder (kill -9, a full disk, a cancel). A non-empty target is only
 * written to with `overwrite`, and then only entries an earlier export of ours wrote (recognised by its
 * provenance.json and file names) are replaced; anything else there is kept, and an export entry that
 * holds someone else's files makes the export stop before anything is changed.
 */
export class StagedFolder {
  /** Paths written, relative to the folder, in order. */
  readonly files: string[] = [];

  private constructor(
    readonly target: string,
    private readonly temp: string,
    /** The target's entries this export replaces (earlier exports of ours). */
    private readonly replaces: string[],
  ) {}

  static async begin(target: string, overwrite: boolean): Promise<StagedFolder> {
    const parent = path.dirname(target);
    await fs.mkdir(parent, { recursive: true });
    await removeStalePartials(target);
    const replaces = await checkTarget(target, overwrite);
    const temp = path.join(
      parent,
      `.${path.basename(target)}${PARTIAL}${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    await fs.mkdir(temp);
    return new StagedFolder(target, temp, replaces);
  }

  async write(relative: string, data: string | Buffer): Promise<void> {
    const file = this.resolve(relative);
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, data, { flag: 'wx' });
    this.files.push(relative);
  }

  /**
   * A file written piece by piece (never whole in memory), behind a head of `head.bytes` that can only
   * be made once the body's length is known (a WAV header): the head's room is written first and filled
   * in at the end. Returns the body's length in bytes.
   */
  async writeStream(
    relative: string,
    body: AsyncIterable<Buffer>,
    head: { bytes: number; make: (bodyBytes: number) => Buffer },
  ): Promise<number> {
    const file = this.resolve(relative);
    await fs.mkdir(path.dirname(file), { recursive: true });
    const handle = await fs.open(file, 'wx');
    this.files.push(relative);
    try {
      let at = head.bytes;
      for await (const piece of body) {
        await handle.write(piece, 0, piece.length, at);
        at += piece.length;
      }
      const made = head.make(at - head.bytes);
      if (made.length !== head.bytes) throw new Error(`a ${made.length}-byte head for ${head.bytes} bytes of room`);
      await handle.write(made, 0, made.length, 0);
      return at - head.bytes;
    } finally {
      await handle.close();
    }
  }

  private resolve(relative: string): string {
    const file = path.resolve(this.temp, relative);
    if (!file.startsWith(this.temp + path.sep))
      throw new StudioError('forbidden', `refusing to write outside ${this.target}: ${relative}`);
    return file;
  }

  /** Makes the export durable, then puts it in place. */
  async commit(): Promise<void> {
    const queue = [...this.files];
    const syncOne = async () => {
      for (let f = queue.shift(); f !== undefined; f = queue.shift()) await fsyncPath(path.join(this.temp, f), 'r+');
    };
    await Promise.all(Array.from({ length: SYNC_PARALLEL }, syncOne));
    const dirs = new Set(this.files.map((f) => path.dirname(path.join(this.temp, f))));
    for (const d of dirs) await fsyncPath(d, 'r');
    await fsyncPath(this.temp, 'r');

    if (await isEmptyOrMissing(this.target)) {
      await fs.rmdir(this.target).catch(() => {});
      await fs.rename(this.temp, this.target);
      await fsyncPath(path.dirname(this.target), 'r');
      return;
    }
    // The target holds other things too: swap entry by entry, the earlier export's aside first.
    const old = path.join(
      path.dirname(this.target),
      `.${path.basename(this.target)}${OLD}${process.pid}-${randomBytes(4).toString('hex')}`,
    );
    await fs.mkdir(old);
    const movedOut: string[] = [];
    const movedIn: string[] = [];
    const entries = (await fs.readdir(this.temp)).sort((a, b) => order(a) - order(b));
    try {
      for (const e of this.replaces) {
        await fs.rename(path.join(this.target, e), path.join(old, e));
        movedOut.push(e);
      }
      for (const e of entries) {
        await fs.rename(path.join(this.temp, e), path.join(this.target, e));
        movedIn.push(e);
      }
    } catch (err) {
      for (const e of movedIn.reverse())
        await fs.rename(path.join(this.target, e), path.join(this.temp, e)).catch(() => {});
      for (const e of movedOut.reverse()) await fs.rename(path.join(old, e), path.join(this.target, e)).catch(() => {});
      await fs.rm(old, { recursive: true, force: true });
      throw err;
    }
    await fsyncPath(this.target, 'r');
    await fs.rm(old, { recursive: true, force: true });
    await fs.rm(this.temp, { recursive: true, force: true });
  }

  /** Removes everything this export wrote; the target is as it was. */
  async abort(): Promise<void> {
    await fs.rm(this.temp, { recursive: true, force: true });
  }
}

/** provenance.json goes in last: a folder with it holds a complete export. */
const order = (entry: string) => (entry === 'provenance.json' ? 1 : 0);

async function fsyncPath(p: string, flags: 'r' | 'r+'): Promise<void> {
  let fh;
  try {
    fh = await fs.open(p, flags);
  } catch (err) {
    if (flags === 'r' && process.platform === 'win32') return; // directories cannot be opened there
    throw err;
  }
  try {
    await fh.sync();
  } catch (err) {
    // Some file systems refuse fsync on a directory; the files themselves are synced.
    if (flags === 'r+') throw err;
  } finally {
    await fh.close();
  }
}

async function isEmptyOrMissing(dir: string): Promise<boolean> {
  try {
    return (await fs.readdir(dir)).length === 0;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw err;
  }
}

/**
 * What an export to `target` may replace. Throws (changing nothing) for a non-empty folder without
 * overwrite, and for export entries that an earlier export of ours did not write.
 */
async function checkTarget(target: string, overwrite: boolean): Promise<string[]> {
  let entries: string[];
  try {
    const stat = await fs.stat(target);
    if (!stat.isDirectory()) throw new StudioError('conflict', `Export target ${target} exists and is not a folder`);
    entries = await fs.readdir(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
  if (entries.length === 0) return [];
  if (!overwrite) {
    throw new StudioError(
      'conflict',
      `Export folder ${target} is not empty; choose an empty folder or allow overwriting`,
    );
  }
  const clashing = EXPORT_ENTRIES.filter((e) => entries.includes(e));
  if (clashing.length === 0) return [];
  const refuse = (what: string) =>
    new StudioError(
      'conflict',
      `Export folder ${target}: ${what}, so overwriting could destroy files that are not an export's. ` +
        'Nothing was changed; move them away or choose another folder.',
    );
  if (!(await isOurProvenance(path.join(target, 'provenance.json')))) {
    throw refuse(`${clashing.join(', ')} ${clashing.length > 1 ? 'were' : 'was'} not written by a WavFusion export`);
  }
  for (const e of clashing) {
    const full = path.join(target, e);
    const stat = await fs.lstat(full);
    if ((SPLITS as readonly string[]).includes(e)) {
      if (!stat.isDirectory()) throw refuse(`${e} is not a folder an export wrote`);
      for (const f of await fs.readdir(full, { withFileTypes: true })) {
        if (!f.isFile() || !SPLIT_FILE.test(f.name)) throw refuse(`${e}/${f.name} was not written by an export`);
      }
    } else if (!stat.isFile()) throw refuse(`${e} is not a file an export wrote`);
  }
  return clashing;
}

async function isOurProvenance(file: string): Promise<boolean> {
  try {
    const p = JSON.parse(await fs.readFile(file, 'utf8')) as { app?: { name?: unknown } };
    return p.app?.name === 'WavFusion Studio';
  } catch {
    return false;
  }
}

/** Removes temporary folders left by an export to `target` whose process died (kill -9, power loss). */
async function removeStalePartials(target: string): Promise<void> {
  const parent = path.dirname(target);
  const prefix = `.${path.basename(target)}${PARTIAL}`;
  let names: string[];
  try {
    names = await fs.readdir(parent);
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const pid = Number(name.slice(prefix.length).split('-')[0]);
    if (Number.isInteger(pid) && pid !== process.pid && !alive(pid))
      await fs.rm(path.join(parent, name), { recursive: true, force: true });
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
