import type { SpectrogramScale, SpectrogramTile, StudioClient } from '../../../../shared/contract';
import { SvelteMap, SvelteSet } from 'svelte/reactivity';
import { debounce, type Debounced } from '../util/debounce';
import { errorMessage } from '../util/format';

/** Tiles are this many pixels wide at the current zoom: the core computes each once, the page caches it. */
export const TILE_PX = 256;
/** The tallest tile asked for (taller views are drawn from it, stretched). */
export const MAX_TILE_HEIGHT = 512;
const CACHE_TILES = 160;
export const DEFAULT_FLOOR_DB = -90;
export const DEFAULT_CEILING_DB = -10;
/** The floor stays at least this far below the ceiling. */
const MIN_RANGE_DB = 10;
/** Where the settings are kept in the browser (shown or not, scale, dB range), like the theme. */
const SETTINGS_KEY = 'wavfusion.spectrogram';

/** What the waveform shows now: the clip (recording time), its zoom and scroll, and the drawing area. */
export interface SpectrogramView {
  recordingId: number;
  /** Recording time at the left edge of the clip (x = 0 of the scrolled content), and its end. */
  clipStart: number;
  clipEnd: number;
  pxPerSecond: number;
  scrollPx: number;
  widthPx: number;
  heightPx: number;
}

/**
 * A loaded tile and where it goes in the visible area (CSS pixels from the area's left edge): a tile of
 * another zoom, shown until this zoom's arrives, is stretched to its time range.
 */
export interface PlacedTile {
  x: number;
  width: number;
  tile: SpectrogramTile;
  /** Of another zoom, standing in for a missing tile of this one. */
  stale: boolean;
}

/**
 * The spectrogram under the waveform: shown or not, its scale and dB range, and the tiles of what is
 * in view, fetched from the core (`getSpectrogramTile`) a short while after the zoom or scroll
 * settles, cached per tile (the clip's tile grid at one zoom), a few around the view fetched too.
 */
export class SpectrogramState {
  #visible = $state(false);
  #scale = $state<SpectrogramScale>('mel');
  #floorDb = $state(DEFAULT_FLOOR_DB);
  #ceilingDb = $state(DEFAULT_CEILING_DB);
  #view = $state<SpectrogramView | null>(null);
  #error = $state<string | null>(null);
  /** Reactive: what draws the tiles runs again when one arrives. */
  #tiles = new SvelteMap<string, SpectrogramTile>();
  #pending = new SvelteSet<string>();
  #requested = 0;
  #client: StudioClient;
  #fetch: Debounced<[]>;

  constructor(client: StudioClient, debounceMs = 150) {
    this.#client = client;
    this.#fetch = debounce(() => this.#fetchVisible(), debounceMs);
    const stored = readSettings();
    if (stored) {
      this.#visible = stored.visible === true;
      if (stored.scale === 'log' || stored.scale === 'mel') this.#scale = stored.scale;
      if (typeof stored.floorDb === 'number' && typeof stored.ceilingDb === 'number')
        this.#applyRange(stored.floorDb, stored.ceilingDb);
    }
  }

  #save(): void {
    try {
      localStorage.setItem(
        SETTINGS_KEY,
        JSON.stringify({
          visible: this.#visible,
          scale: this.#scale,
          floorDb: this.#floorDb,
          ceilingDb: this.#ceilingDb,
        }),
      );
    } catch {
      // Storage may be unavailable; the settings still hold for this page.
    }
  }

  get visible(): boolean {
    return this.#visible;
  }
  get scale(): SpectrogramScale {
    return this.#scale;
  }
  get floorDb(): number {
    return this.#floorDb;
  }
  get ceilingDb(): number {
    return this.#ceilingDb;
  }
  get error(): string | null {
    return this.#error;
  }
  /** How many tiles were asked of the core so far. */
  get requested(): number {
    return this.#requested;
  }

  toggle(): void {
    this.#visible = !this.#visible;
    this.#save();
    if (this.#visible) this.#fetch();
  }

  setScale(scale: SpectrogramScale): void {
    this.#scale = scale;
    this.#save();
    this.#fetch();
  }

  /** The dB range the colours span; the floor is kept at least 10 dB under the ceiling. */
  setRange(floorDb: number, ceilingDb: number): void {
    this.#applyRange(floorDb, ceilingDb);
    this.#save();
  }

  #applyRange(floorDb: number, ceilingDb: number): void {
    if (!Number.isFinite(floorDb) || !Number.isFinite(ceilingDb)) return;
    const ceiling = Math.min(0, Math.max(-110, Math.round(ceilingDb)));
    this.#ceilingDb = ceiling;
    this.#floorDb = Math.min(ceiling - MIN_RANGE_DB, Math.max(-120, Math.round(floorDb)));
  }

  resetRange(): void {
    this.#floorDb = DEFAULT_FLOOR_DB;
    this.#ceilingDb = DEFAULT_CEILING_DB;
    this.#save();
  }

  /** The waveform's view changed (or went: null); the tiles for it are fetched once it settles. */
  setView(view: SpectrogramView | null): void {
    this.#view = view;
    if (view && this.#visible) this.#fetch();
  }

  /**
   * The loaded tiles of what is in view now, placed; where one is still missing (just after a zoom), the
   * tiles of other zooms that cover its time range come first, stretched, so the picture never blanks.
   */
  get tilesInView(): PlacedTile[] {
    const view = this.#view;
    if (!view || !this.#visible) return [];
    const place = (tile: SpectrogramTile): PlacedTile => ({
      x: (tile.startSeconds - view.clipStart) * view.pxPerSecond - view.scrollPx,
      width: (tile.endSeconds - tile.startSeconds) * view.pxPerSecond,
      tile,
      stale: true,
    });
    const fresh: PlacedTile[] = [];
    const missing: [number, number][] = [];
    for (const i of this.#indices(view, 0)) {
      const tile = this.#tiles.get(this.#key(view, i));
      if (tile) fresh.push({ x: i * TILE_PX - view.scrollPx, width: TILE_PX, tile, stale: false });
      else
        missing.push([
          view.clipStart + (i * TILE_PX) / view.pxPerSecond,
          view.clipStart + ((i + 1) * TILE_PX) / view.pxPerSecond,
        ]);
    }
    if (missing.length === 0) return fresh;
    const sameGrid = `${this.#key(view, 0).split('|').slice(0, 4).join('|')}|`;
    const stale: PlacedTile[] = [];
    for (const [key, tile] of this.#tiles) {
      if (!key.startsWith(sameGrid) || key.split('|')[4] === view.pxPerSecond.toFixed(4)) continue;
      if (missing.some(([from, to]) => tile.startSeconds < to && tile.endSeconds > from)) stale.push(place(tile));
    }
    // Finer tiles over coarser ones.
    stale.sort((a, b) => b.tile.endSeconds - b.tile.startSeconds - (a.tile.endSeconds - a.tile.startSeconds));
    return [...stale, ...fresh];
  }

  #indices(view: SpectrogramView, margin: number): number[] {
    const clipWidth = (view.clipEnd - view.clipStart) * view.pxPerSecond;
    const last = Math.ceil(clipWidth / TILE_PX) - 1;
    const from = Math.max(0, Math.floor(view.scrollPx / TILE_PX) - margin);
    const to = Math.min(last, Math.floor((view.scrollPx + view.widthPx) / TILE_PX) + margin);
    const out: number[] = [];
    for (let i = from; i <= to; i++) out.push(i);
    return out;
  }

  #height(view: SpectrogramView): number {
    return Math.max(2, Math.min(MAX_TILE_HEIGHT, Math.round(view.heightPx)));
  }

  #key(view: SpectrogramView, i: number): string {
    return [view.recordingId, this.#scale, this.#height(view), view.clipStart, view.pxPerSecond.toFixed(4), i].join(
      '|',
    );
  }

  #fetchVisible(): void {
    const view = this.#view;
    if (!view || !this.#visible || !(view.pxPerSecond > 0)) return;
    const scale = this.#scale;
    const heightPx = this.#height(view);
    for (const i of this.#indices(view, 1)) {
      const key = this.#key(view, i);
      if (this.#tiles.has(key) || this.#pending.has(key)) continue;
      this.#pending.add(key);
      this.#requested++;
      const startSeconds = view.clipStart + (i * TILE_PX) / view.pxPerSecond;
      const endSeconds = view.clipStart + ((i + 1) * TILE_PX) / view.pxPerSecond;
      this.#client
        .getSpectrogramTile({
          recordingId: view.recordingId,
          startSeconds,
          endSeconds,
          widthPx: TILE_PX,
          heightPx,
          scale,
        })
        .then(
          (tile) => {
            this.#tiles.set(key, tile);
            // Least recently fetched first out.
            for (const old of this.#tiles.keys()) {
              if (this.#tiles.size <= CACHE_TILES) break;
              this.#tiles.delete(old);
            }
            this.#error = null;
          },
          (err: unknown) => {
            this.#error = `The spectrogram could not be computed: ${errorMessage(err)}`;
          },
        )
        .finally(() => this.#pending.delete(key));
    }
  }

  /** Stops a fetch waiting to run (the panel went away). */
  dispose(): void {
    this.#fetch.cancel();
  }
}

function readSettings(): Record<string, unknown> | null {
  try {
    const raw = localStorage.getItem(SETTINGS_KEY);
    const parsed: unknown = raw === null ? null : JSON.parse(raw);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
