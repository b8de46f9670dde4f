import WaveSurfer from 'wavesurfer.js';
import RegionsPlugin, { type Region } from 'wavesurfer.js/plugins/regions';
import { MAX_WAVEFORM_REGIONS, type Waveform } from '../../../../shared/contract';
import { readableOn } from '../util/colour';
import { errorMessage, formatSeconds, withAlpha } from '../util/format';

/** Clips longer than this are drawn from the core's precomputed peaks instead of being decoded. */
export const DECODE_LIMIT_SECONDS = 30;
export const PLAYBACK_RATES = [0.5, 0.75, 1, 1.25, 1.5, 2] as const;
const ZOOM_STEP = 1.5;
/** The deepest zoom: about 10 ms across a panel (~1000 px), samples drawn one by one. */
export const MAX_PX_PER_SECOND = 100_000;
/**
 * The widest the scrolled waveform may get (CSS px): Chromium stops drawing wavesurfer's canvases
 * placed past 2^24 px (16.8 million; a 2-hour clip at 25 M px showed a blank waveform in its second
 * half), so a long clip's deepest zoom is this over its duration (a 2-hour clip: ~2,200 px/s, under
 * half a second across the panel).
 */
export const MAX_SCROLL_WIDTH_PX = 16_000_000;
/**
 * Zoomed in past what a long clip can be drawn at, the player shows a window of the recording this
 * long (seconds) around what is in view instead, decoded and drawn sample by sample (it is under
 * `DECODE_LIMIT_SECONDS`), and moves the window along as the view goes near its edges.
 */
export const DETAIL_WINDOW_S = 20;
/** The view within this share of a window's edge (and the recording goes on): the window moves. */
const WINDOW_EDGE_SHARE = 0.1;

/** How one region of the waveform is drawn. */
export interface RegionStyle {
  utteranceId: number;
  colour: string;
  label: string;
  current: boolean;
  /**
   * Where the label comes from when no person gave it: the model's prediction or an imported
   * manifest. Either is drawn lighter and dotted.
   */
  origin?: 'model' | 'import';
}

/** What the waveform's mouse edits ask for (recording time, seconds). */
export interface SegmentEditHandlers {
  /** A drag across the waveform outside the segments: a new segment. */
  oncreate: (start: number, end: number) => void;
  /** The current utterance's edge was dragged (`side`: which edge). */
  onresize: (utteranceId: number, start: number, end: number, side: 'start' | 'end') => void;
  /** A neighbouring utterance's region was clicked. */
  onselect: (utteranceId: number) => void;
}

export interface MountOptions {
  container: HTMLElement;
  timeline: HTMLElement;
  waveform: Waveform;
  url: string;
  /** Where the current utterance lies in recording time. */
  start: number;
  end: number;
  /** Segment editing with the mouse (drag to create, drag an edge to resize, click to select). */
  edit?: SegmentEditHandlers;
  /**
   * Asks for a window of the recording to be drawn instead of the utterance's clip (null: the clip
   * again); the answer arrives as the next mount. Without it, the deepest zoom is the clip's.
   */
  onwindow?: (window: { start: number; end: number } | null) => Promise<'shown' | 'superseded' | 'failed'>;
}

/** What the waveform shows now, for what is drawn under it (the spectrogram): CSS pixels, recording time. */
export interface PlayerViewport {
  clipStart: number;
  clipEnd: number;
  /** Pixels per second of the drawn clip (the fit or the zoom). */
  pxPerSecond: number;
  /** How far the clip is scrolled, and the visible width and the waveform's height. */
  scrollPx: number;
  widthPx: number;
  heightPx: number;
}

const WAVE_COLOURS = { waveColor: '#8794aa', progressColor: '#56647f' };
/** Over the spectrogram the waveform is a faint outline, so the colours under it show. */
const WAVE_OVER_SPECTROGRAM = { waveColor: 'rgba(255, 255, 255, 0.28)', progressColor: 'rgba(255, 255, 255, 0.45)' };

/** A segment VAD proposed, in recording time, and whether committing it would skip it. */
export interface ProposedRegion {
  start: number;
  end: number;
  /** Why it would not be committed (it overlaps a labelled utterance), if so. */
  skipped: string | null;
}

/**
 * The waveform player: one WaveSurfer instance per selected utterance (created by `mount`, torn down
 * by the function it returns), plus the settings that outlive it: loop, rate and zoom.
 */
export class PlayerState {
  playing = $state(false);
  ready = $state(false);
  loop = $state(false);
  rate = $state(1);
  /** Pixels per second; 0 fits the clip to the panel. */
  zoom = $state(0);
  /** Playback position in recording time. */
  time = $state(0);
  error = $state<string | null>(null);
  canZoomOut = $derived(this.zoom > 0);
  /** What is in view now (null while no clip is drawn). */
  viewport = $state<PlayerViewport | null>(null);
  /** The recording time in view now, from the left edge to the right (null while no clip is drawn). */
  visibleRange = $derived.by(() => {
    const v = this.viewport;
    if (!v || !(v.pxPerSecond > 0)) return null;
    const start = v.clipStart + v.scrollPx / v.pxPerSecond;
    return { start, end: Math.min(v.clipEnd, start + v.widthPx / v.pxPerSecond) };
  });
  /** The deepest zoom the drawn clip allows (px per second); 0 while none is drawn. */
  maxZoom = $state(0);
  canZoomIn = $derived(this.maxZoom > 0 && (this.zoom === 0 || this.zoom < this.maxZoom * 0.999));
  /** The waveform is drawn as an outline over the spectrogram. */
  private overSpectrogram = false;

  private ws: WaveSurfer | null = null;
  private regions: ReturnType<typeof RegionsPlugin.create> | null = null;
  private clipStart = 0;
  private clipEnd = 0;
  /** The utterance, in clip time. */
  private regionStart = 0;
  private regionEnd = 0;
  private styles: RegionStyle[] = [];
  private proposals: ProposedRegion[] = [];
  private edit: SegmentEditHandlers | undefined;
  private currentId = 0;
  /** The edge of the current utterance the nudge keys move (drawn thicker). */
  private boundary: 'start' | 'end' = 'start';
  /** A position (recording time) to put the cursor at once the next clip is ready. */
  private pendingSeek: number | null = null;
  /** A time (recording time) to put in the middle of the view once the next clip is drawn. */
  private pendingCentre: number | null = null;
  /** Play from the cursor once the next clip is ready (playback going on into the next window). */
  private pendingPlay = false;
  /** This play runs to the window's end and the utterance goes on past it: the next window plays on. */
  private continueAtEnd = false;
  /** The current utterance, in recording time. */
  private utteranceStart = 0;
  private utteranceEnd = 0;
  private onwindow: MountOptions['onwindow'];
  /** The drawn clip is a window of the recording (the deep zoom), and how long the recording is. */
  private windowed = false;
  private recordingDuration = 0;
  /** The deepest zoom the drawn clip itself allows (its scroll width), and the utterance clip's length. */
  private clipMaxZoom = 0;
  private utteranceClipDuration = 0;
  /** What was asked for and has not arrived yet: a window of the recording, or the utterance's clip again. */
  private asked: 'window' | 'clip' | null = null;
  /** The clip drawn before a window (or the clip again) replaced it: kept on screen until the new one is drawn. */
  private previous: { ws: WaveSurfer; host: HTMLElement } | null = null;
  /** A window is replacing the drawn clip: the old one stays on screen meanwhile (no "Loading audio…"). */
  swapping = $state(false);

  mount({ container, timeline, waveform, url, start, end, edit, onwindow }: MountOptions): () => void {
    const clipDuration = waveform.clipEnd - waveform.clipStart;
    this.onwindow = onwindow;
    this.windowed = waveform.windowed;
    // A clip the player did not ask for (another utterance, a reload after an edit) keeps no old place.
    if (this.asked === null) {
      this.pendingCentre = null;
      this.pendingPlay = false;
    }
    this.continueAtEnd = false;
    this.utteranceStart = start;
    this.utteranceEnd = end;
    this.asked = null;
    this.clipEnd = waveform.clipEnd;
    this.recordingDuration = waveform.recordingDurationS;
    if (!waveform.windowed) this.utteranceClipDuration = clipDuration;
    this.clipMaxZoom = Math.min(MAX_PX_PER_SECOND, MAX_SCROLL_WIDTH_PX / Math.max(clipDuration, 1e-3));
    // Deeper than the clip allows, a window of the recording is drawn instead (when one can be asked for).
    this.maxZoom = onwindow ? MAX_PX_PER_SECOND : this.clipMaxZoom;
    // A zoom kept from elsewhere may be deeper than this clip (or any) allows.
    if (this.zoom > this.clipMaxZoom) this.zoom = this.clipMaxZoom;
    this.clipStart = waveform.clipStart;
    this.regionStart = Math.max(0, start - waveform.clipStart);
    this.regionEnd = Math.min(clipDuration, end - waveform.clipStart);
    this.ready = false;
    this.playing = false;
    this.error = null;
    const kept: number | null = this.time;
    this.time = start;
    this.edit = edit;
    this.currentId = waveform.utteranceId;

    const regions = RegionsPlugin.create();
    const usePeaks = clipDuration > DECODE_LIMIT_SECONDS && waveform.peaks.length > 0;
    let height = Math.max(MIN_WAVE_HEIGHT, Math.floor(container.clientHeight));
    const before = container.lastElementChild;
    const ws = WaveSurfer.create({
      container,
      height,
      ...(this.overSpectrogram ? WAVE_OVER_SPECTROGRAM : WAVE_COLOURS),
      cursorColor: '#d6336c',
      cursorWidth: 2,
      normalize: true,
      minPxPerSec: this.zoom,
      audioRate: this.rate,
      // With segment editing, a drag across the waveform makes a segment; a click still seeks.
      dragToSeek: !edit,
      // Not wavesurfer's: it pulls the view back to the cursor whenever the cursor is redrawn, even
      // paused, undoing a scroll (of a long recording, to the overview's place). The view follows the
      // cursor only while playing (timeupdate below).
      autoScroll: false,
      autoCenter: false,
      hideScrollbar: false,
      url,
      ...(usePeaks ? { peaks: [waveform.peaks], duration: clipDuration } : {}),
      plugins: [regions],
    });
    this.ws = ws;
    this.regions = regions;
    // wavesurfer draws into an element of its own, appended to the container
    const host = container.lastElementChild !== before ? (container.lastElementChild as HTMLElement | null) : null;
    // Zoomed in, the waveform scrolls: its scroller takes the keyboard focus like any scrollable region.
    const scroller = ws.getWrapper().parentElement;
    if (scroller) {
      scroller.tabIndex = 0;
      scroller.setAttribute('role', 'group');
      scroller.setAttribute('aria-label', 'Waveform view');
    }

    // The waveform follows its panel: its height is the panel's, less the scrollbar a zoom adds,
    // whenever either changes (a window resize, a zoom), so it never spills over the time axis.
    const fit = () => {
      const scroller = ws.getWrapper().parentElement;
      const bar = scroller ? scroller.offsetHeight - scroller.clientHeight : 0;
      const next = Math.max(MIN_WAVE_HEIGHT, Math.floor(container.clientHeight - bar));
      if (next !== height) {
        height = next;
        ws.setOptions({ height });
      }
      drawTimeline(ws, timeline, this.clipStart);
      this.updateViewport(ws, waveform, height);
    };
    let frame = 0;
    const fitSoon = () => {
      cancelAnimationFrame(frame);
      frame = requestAnimationFrame(fit);
    };
    const observer = new ResizeObserver(fitSoon);
    observer.observe(container);
    observer.observe(timeline);

    const offs = [
      ws.on('decode', () => {
        this.drawRegions(waveform);
        const seek = this.pendingSeek;
        this.pendingSeek = null;
        const inClip = (t: number | null) => t !== null && t >= waveform.clipStart && t <= waveform.clipEnd;
        // A window keeps the cursor where it was when it is in the window, else puts it where the view goes.
        const at = inClip(seek) ? seek : waveform.windowed ? (inClip(kept) ? kept : this.pendingCentre) : null;
        ws.setTime(at === null ? this.regionStart : at - waveform.clipStart);
        if (at !== null) this.time = at;
      }),
      ws.on('interaction', (t) => (this.time = t + this.clipStart)),
      ws.on('ready', () => {
        this.ready = true;
        ws.setPlaybackRate(this.rate);
        // a move asked for after the first draw and before this (a drag in the overview goes on)
        this.applyPendingCentre(ws);
        if (this.pendingPlay) {
          this.pendingPlay = false;
          void this.startPlaying(ws, ws.getCurrentTime());
        }
      }),
      ws.on('play', () => (this.playing = true)),
      ws.on('pause', () => {
        this.playing = false;
        // Played to the end of a window of a long recording, with the utterance going on: the next window plays on.
        if (this.continueAtEnd && ws.getCurrentTime() >= this.regionEnd - 0.05) {
          this.continueAtEnd = false;
          this.playInWindowAt(this.clipEnd);
        }
      }),
      ws.on('finish', () => {
        this.playing = false;
        if (this.loop) void ws.play(this.regionStart);
      }),
      ws.on('timeupdate', (t) => {
        this.time = t + this.clipStart;
        if (ws.isPlaying()) this.keepInView(ws, t);
        if (this.loop && ws.isPlaying() && t >= this.regionEnd) ws.setTime(this.regionStart);
      }),
      ws.on('zoom', (pxPerSec) => {
        if (this.zoom !== 0) this.zoom = pxPerSec;
        this.restyleProposals(ws);
        fitSoon();
      }),
      ws.on('redrawcomplete', () => {
        // A window (or the clip again) arrived for a zoom or a move: the view goes where it was asked.
        this.applyPendingCentre(ws);
        // drawn where it should be: the clip it replaces can go (after this frame is painted)
        if (this.previous && this.ws === ws) requestAnimationFrame(() => this.ws === ws && this.dropPrevious());
        drawTimeline(ws, timeline, this.clipStart);
        this.updateViewport(ws, waveform, height);
      }),
      ws.on('scroll', () => {
        drawTimeline(ws, timeline, this.clipStart);
        this.updateViewport(ws, waveform, height);
        this.followWithWindow();
      }),
      ws.on('error', (err) => {
        this.error = `The audio could not be loaded: ${errorMessage(err)}`;
        this.dropPrevious();
      }),
    ];

    const onWheel = (event: WheelEvent) => {
      if (!event.ctrlKey && !event.metaKey) return;
      event.preventDefault();
      if (event.deltaY < 0) this.zoomIn();
      else if (event.deltaY > 0) this.zoomOut();
    };
    container.addEventListener('wheel', onWheel, { passive: false });

    if (edit) {
      offs.push(
        regions.enableDragSelection({ color: 'rgba(127, 127, 127, 0.18)' }),
        regions.on('region-created', (region) => {
          // Regions this player adds carry an id; a drag selection's has wavesurfer's generated one.
          if (region.id.startsWith('u') || region.id.startsWith('p')) return;
          const from = region.start + this.clipStart;
          const to = region.end + this.clipStart;
          region.remove();
          if (this.proposals.length === 0) edit.oncreate(from, to);
        }),
        regions.on('region-updated', (region, side) => {
          const id = utteranceIdOf(region);
          if (id === null || !side) return;
          this.boundary = side;
          edit.onresize(id, region.start + this.clipStart, region.end + this.clipStart, side);
        }),
        regions.on('region-clicked', (region) => {
          const id = utteranceIdOf(region);
          if (id !== null && id !== this.currentId) edit.onselect(id);
        }),
      );
    }

    return () => {
      // Replaced by a window the player asked for (or the clip again): this one stays on screen, still,
      // over the next until that one is drawn; the time axis and the view stay with it meanwhile.
      const swap = this.asked !== null && this.ws === ws && host !== null && this.ready;
      observer.disconnect();
      cancelAnimationFrame(frame);
      if (!swap) timeline.replaceChildren();
      container.removeEventListener('wheel', onWheel);
      for (const off of offs) off();
      if (this.ws === ws) {
        this.ws = null;
        if (!swap) this.viewport = null;
        this.maxZoom = 0;
        this.regions = null;
        this.ready = false;
        this.playing = false;
      }
      if (swap && !this.previous) {
        ws.pause();
        Object.assign(host.style, { position: 'absolute', inset: '0', zIndex: '2', pointerEvents: 'none' });
        this.previous = { ws, host };
        this.swapping = true;
      } else {
        ws.destroy();
        if (!swap) this.dropPrevious();
      }
    };
  }

  /** Scrolls the view to the time it was asked to show (`pendingCentre`), once the clip is drawn. */
  private applyPendingCentre(ws: WaveSurfer): void {
    const centre = this.pendingCentre;
    if (centre === null || !(ws.getDuration() > 0) || !ws.getWrapper().scrollWidth) return;
    this.pendingCentre = null;
    const pxPerSecond = ws.getWrapper().scrollWidth / ws.getDuration();
    ws.setScroll(Math.max(0, (centre - this.clipStart) * pxPerSecond - ws.getWidth() / 2));
  }

  /** Removes the clip kept on screen while a window replaced it. */
  private dropPrevious(): void {
    const previous = this.previous;
    if (!previous) return;
    this.previous = null;
    this.swapping = false;
    previous.ws.destroy();
    previous.host.remove();
  }

  /** Draws the waveform as a faint outline (over the spectrogram) or in its own colours. */
  setOverSpectrogram(on: boolean): void {
    this.overSpectrogram = on;
    this.ws?.setOptions(on ? WAVE_OVER_SPECTROGRAM : WAVE_COLOURS);
  }

  private updateViewport(ws: WaveSurfer, waveform: Waveform, height: number): void {
    const duration = ws.getDuration();
    const total = ws.getWrapper().scrollWidth;
    const scroller = ws.getWrapper().parentElement;
    if (!duration || !total || !scroller) return;
    const next: PlayerViewport = {
      clipStart: waveform.clipStart,
      clipEnd: waveform.clipEnd,
      pxPerSecond: total / duration,
      scrollPx: ws.getScroll(),
      widthPx: scroller.clientWidth,
      heightPx: height,
    };
    const now = this.viewport;
    if (now && (Object.keys(next) as (keyof PlayerViewport)[]).every((k) => now[k] === next[k])) return;
    this.viewport = next;
  }

  /** Plays the utterance (from the cursor, or from its start when the cursor is past it), or pauses. */
  async playPause(): Promise<void> {
    const ws = this.ws;
    // A window of the recording on its way (a zoom or a move just asked for it): play once it is ready.
    if (this.asked === 'window' || (ws && !this.ready && this.windowed)) {
      this.pendingPlay = !this.pendingPlay;
      return;
    }
    if (!ws || !this.ready) return;
    if (ws.isPlaying()) {
      this.continueAtEnd = false;
      ws.pause();
      return;
    }
    let from = ws.getCurrentTime();
    if (from >= this.regionEnd - 0.02) {
      // At a window's end with the utterance going on: play on in the next window.
      if (this.goesOnPastWindow()) return this.playInWindowAt(this.clipEnd);
      // Past the utterance (e.g. after it played through): start it over.
      if (this.windowed && this.utteranceStart < this.clipStart - 1e-6) return this.playInWindowAt(this.utteranceStart);
      from = this.regionStart;
    }
    await this.startPlaying(ws, from);
  }

  /** Plays the utterance from its start (R), whatever the cursor (in a window that starts later: its window). */
  async replay(): Promise<void> {
    const ws = this.ws;
    if (!ws || !this.ready) return;
    if (this.windowed && this.utteranceStart < this.clipStart - 1e-6) return this.playInWindowAt(this.utteranceStart);
    await this.startPlaying(ws, this.regionStart);
  }

  /** Plays from `from` (clip time) to the utterance's end in the clip, or looping. */
  private async startPlaying(ws: WaveSurfer, from: number): Promise<void> {
    this.continueAtEnd = !this.loop && this.goesOnPastWindow();
    try {
      if (this.loop) await ws.play(from);
      else await ws.play(from, this.regionEnd);
    } catch (err) {
      if ((err as Error).name !== 'AbortError') this.error = `Playback failed: ${errorMessage(err)}`;
    }
  }

  /** A window is drawn, and the utterance (and the recording) go on past its end. */
  private goesOnPastWindow(): boolean {
    return (
      this.windowed &&
      !!this.onwindow &&
      this.utteranceEnd > this.clipEnd + 1e-3 &&
      this.clipEnd < this.recordingDuration - 1e-3
    );
  }

  /** Asks for a window from `time` (recording time) on, and plays from `time` once it is ready. */
  private playInWindowAt(time: number): void {
    this.askWindow(time + DETAIL_WINDOW_S / 2 - 1, this.zoom);
    this.pendingCentre = time;
    this.pendingSeek = time;
    this.pendingPlay = true;
  }

  /** Moves the cursor by `seconds` (← / →), within the clip; playing goes on from there. */
  seek(seconds: number): void {
    const ws = this.ws;
    if (!ws || !this.ready) return;
    const wanted = ws.getCurrentTime() + seconds;
    // In a window of a long recording, a seek past its edge moves the window (within the utterance).
    if (this.windowed && (wanted < 0 || wanted > ws.getDuration())) {
      const time = Math.max(this.utteranceStart, Math.min(this.utteranceEnd, wanted + this.clipStart));
      if (time < this.clipStart || time > this.clipEnd) {
        const playing = ws.isPlaying();
        this.askWindow(time, this.zoom);
        this.pendingSeek = time;
        this.pendingPlay = playing;
        this.time = time;
        return;
      }
    }
    const to = Math.min(ws.getDuration(), Math.max(0, wanted));
    ws.setTime(to);
    this.time = to + this.clipStart;
  }

  toggleLoop(): void {
    this.loop = !this.loop;
    const ws = this.ws;
    // A play started without loop stops at the utterance's end; restart it so it loops instead.
    if (this.loop && ws?.isPlaying()) void ws.play(ws.getCurrentTime());
  }

  setRate(rate: number): void {
    this.rate = rate;
    this.ws?.setPlaybackRate(rate);
  }

  zoomIn(): void {
    if (!this.canZoomIn) return;
    const next = Math.min(this.maxZoom, this.currentPxPerSecond() * ZOOM_STEP);
    // Past what the clip can be drawn at: a window of the recording around the middle of the view.
    if (next > this.clipMaxZoom * 1.001) this.askWindow(this.viewCentre(), next);
    else this.applyZoom(next);
  }

  /**
   * Scrolls the view so that `time` (recording time) is in its middle; the zoom stays. Outside the
   * drawn window of a long recording (the deep zoom), the window moves there.
   */
  centreOn(time: number): void {
    // A window or the clip is on its way (a drag in the overview goes on meanwhile): it goes there instead.
    if (this.asked === 'window') return this.askWindow(time, this.zoom);
    const ws = this.ws;
    const v = this.viewport;
    if (this.asked === 'clip' || !ws || !this.ready || !v) {
      // Still loading: the view goes there once the clip is drawn (a window: once one around `time` is).
      if (this.windowed && this.asked === null && (time < this.clipStart || time > this.clipEnd))
        return this.askWindow(time, this.zoom);
      if (ws || this.asked) this.pendingCentre = time;
      return;
    }
    const local = time - this.clipStart;
    if (this.windowed) {
      const half = v.widthPx / v.pxPerSecond / 2;
      const clipDuration = ws.getDuration();
      const startsClip = this.clipStart <= 1e-6 && local - half <= 0;
      const endsClip = this.clipStart + clipDuration >= this.recordingDuration - 1e-6 && local + half >= clipDuration;
      const fits = (local - half >= 0 || startsClip) && (local + half <= clipDuration || endsClip);
      if (!fits) {
        this.askWindow(time, this.zoom);
        return;
      }
    }
    if (local < 0 || local > ws.getDuration()) return;
    // In the pixels the viewport is measured in (the browser stops the scroll at either end).
    ws.setScroll(Math.max(0, local * v.pxPerSecond - v.widthPx / 2));
  }

  /** While playing: when the cursor (clip time) leaves the view, the view jumps on to it. */
  private keepInView(ws: WaveSurfer, local: number): void {
    const v = this.viewport;
    if (!v || !(v.pxPerSecond > 0)) return;
    const x = local * v.pxPerSecond;
    if (x < v.scrollPx || x > v.scrollPx + v.widthPx) ws.setScroll(x);
  }

  zoomOut(): void {
    const next = this.currentPxPerSecond() / ZOOM_STEP;
    if (this.windowed && this.onwindow) {
      // Out of a window far enough for the utterance's clip to draw it: the clip again, at this zoom.
      const wholeMax = Math.min(MAX_PX_PER_SECOND, MAX_SCROLL_WIDTH_PX / Math.max(this.utteranceClipDuration, 1e-3));
      if (next <= wholeMax) {
        const wholeFit = (this.ws?.getWidth() ?? 0) / Math.max(this.utteranceClipDuration, 1e-3);
        this.zoom = next <= wholeFit * 1.01 ? 0 : next;
        this.pendingCentre = this.zoom > 0 ? this.viewCentre() : null;
        this.ask(null);
        return;
      }
    }
    this.applyZoom(next <= this.fitPxPerSecond() * 1.01 ? 0 : next);
  }

  zoomToFit(): void {
    if (this.windowed && this.onwindow) {
      this.zoom = 0;
      this.pendingCentre = null;
      this.ask(null);
      return;
    }
    this.applyZoom(0);
  }

  /** The recording time in the middle of the view (the cursor's when nothing is drawn yet). */
  private viewCentre(): number {
    const range = this.visibleRange;
    return range ? (range.start + range.end) / 2 : this.time;
  }

  /** Asks for a window of the recording around `centre`, to be drawn at `pxPerSecond`. */
  private askWindow(centre: number, pxPerSecond: number): void {
    if (!this.onwindow) return;
    const length = Math.min(DETAIL_WINDOW_S, this.recordingDuration);
    const start = Math.max(0, Math.min(this.recordingDuration - length, centre - length / 2));
    this.zoom = pxPerSecond;
    this.pendingCentre = centre;
    this.ask({ start, end: start + length });
  }

  /**
   * Asks for a window (or, null, the utterance's clip): the answer arrives as the next mount. One that
   * could not be loaded (said in the banner) leaves the player as it is, free to ask again.
   */
  private ask(window: { start: number; end: number } | null): void {
    const onwindow = this.onwindow;
    if (!onwindow) return;
    const asked = window ? 'window' : 'clip';
    this.asked = asked;
    void onwindow(window).then((outcome) => {
      if (outcome !== 'failed' || this.asked !== asked) return;
      this.asked = null;
      this.pendingCentre = null;
      this.pendingSeek = null;
      this.pendingPlay = false;
      // the zoom asked for may be deeper than the clip still drawn allows
      if (this.zoom > this.clipMaxZoom) this.applyZoom(this.clipMaxZoom);
    });
  }

  /** In a window of a long recording: when the view nears an edge the recording goes on past, the window follows. */
  private followWithWindow(): void {
    // While playing the view follows the cursor, and the next window comes at the window's end.
    if (!this.windowed || this.asked !== null || !this.ready || this.playing) return;
    const range = this.visibleRange;
    const ws = this.ws;
    if (!range || !ws) return;
    const clipEnd = this.clipStart + ws.getDuration();
    const margin = WINDOW_EDGE_SHARE * ws.getDuration();
    const nearStart = this.clipStart > 1e-6 && range.start < this.clipStart + margin;
    const nearEnd = clipEnd < this.recordingDuration - 1e-6 && range.end > clipEnd - margin;
    if (nearStart || nearEnd) this.askWindow((range.start + range.end) / 2, this.zoom);
  }

  /** Colours the regions (label colours, the current utterance emphasised) without reloading audio. */
  setRegionStyles(styles: RegionStyle[]): void {
    this.styles = styles;
    if (!this.regions) return;
    for (const region of this.regions.getRegions()) this.styleRegion(region);
  }

  private drawRegions(waveform: Waveform): void {
    const regions = this.regions;
    if (!regions) return;
    regions.clearRegions();
    const clipDuration = waveform.clipEnd - waveform.clipStart;
    const self = waveform.regions.find((r) => r.utteranceId === waveform.utteranceId);
    const centre = self ? (self.start + self.end) / 2 : (waveform.clipStart + waveform.clipEnd) / 2;
    // Densely segmented recordings can have hundreds of neighbours in a clip: draw the nearest few.
    const neighbours = waveform.regions
      .filter((r) => r !== self)
      .sort((a, b) => Math.abs((a.start + a.end) / 2 - centre) - Math.abs((b.start + b.end) / 2 - centre))
      .slice(0, MAX_WAVEFORM_REGIONS);
    // Neighbours first, so the current utterance's region sits on top. Name tags go on the current
    // region and on neighbours that do not overlap it (overlapping tags would stack).
    for (const r of [...neighbours, ...(self ? [self] : [])]) {
      const tagged = r === self || !self || r.end <= self.start || r.start >= self.end;
      const region = regions.addRegion({
        id: `u${r.utteranceId}`,
        start: Math.max(0, r.start - waveform.clipStart),
        end: Math.min(clipDuration, r.end - waveform.clipStart),
        drag: false,
        // The current utterance's edges can be dragged when editing (not while proposals are shown),
        // each only where it is in the clip (a window of a long recording may cut the region).
        resize: r === self && !!this.edit && this.proposals.length === 0,
        resizeStart: r.start >= waveform.clipStart - 1e-6,
        resizeEnd: r.end <= waveform.clipEnd + 1e-6,
        minLength: 0.02,
        ...(tagged ? { content: regionTag() } : {}),
      });
      this.styleRegion(region);
    }
    this.drawProposals();
  }

  /** Shows VAD's proposed segments over the waveform (none: removes them); editing pauses meanwhile. */
  setProposals(proposals: ProposedRegion[]): void {
    this.proposals = proposals;
    const regions = this.regions;
    if (!regions) return;
    for (const region of regions.getRegions()) {
      if (region.id.startsWith('p')) region.remove();
      else if (region.element?.getAttribute('data-region') === 'current')
        region.setOptions({ resize: !!this.edit && proposals.length === 0 });
    }
    this.drawProposals();
  }

  private drawProposals(): void {
    const regions = this.regions;
    const ws = this.ws;
    if (!regions || !ws) return;
    const duration = ws.getDuration();
    if (!duration) return;
    const pxPerSecond = ws.getWrapper().scrollWidth / duration;
    this.proposals.forEach((p, i) => {
      const start = p.start - this.clipStart;
      const end = p.end - this.clipStart;
      if (end <= 0 || start >= duration) return;
      const region = regions.addRegion({
        id: `p${i}`,
        start: Math.max(0, start),
        end: Math.min(duration, end),
        drag: false,
        resize: false,
        color: 'transparent',
      });
      const el = region.element;
      if (!el) return;
      el.setAttribute('data-region', 'proposed');
      el.setAttribute('data-skipped', p.skipped ? 'true' : 'false');
      el.setAttribute(
        'title',
        `Proposed segment ${i + 1}: ${formatSeconds(p.start)}–${formatSeconds(p.end)} s` +
          (p.skipped ? ` (${p.skipped})` : ''),
      );
      Object.assign(el.style, {
        zIndex: '4',
        top: '18%',
        height: '64%',
        boxSizing: 'border-box',
        background: p.skipped
          ? 'repeating-linear-gradient(135deg, transparent 0 5px, color-mix(in srgb, var(--muted) 25%, transparent) 5px 7px)'
          : 'color-mix(in srgb, var(--proposal) 22%, transparent)',
        pointerEvents: 'none',
      });
      this.proposalEdges(el, p, (end - start) * pxPerSecond);
    });
  }

  /** Proposals drawn a few pixels wide (a long recording at fit) by a 1 px left edge: their pauses show. */
  private proposalEdges(el: HTMLElement, p: ProposedRegion, widthPx: number): void {
    const narrow = widthPx < NARROW_PROPOSAL_PX;
    const line = p.skipped ? 'dashed var(--muted)' : 'solid var(--proposal)';
    el.style.border = narrow ? 'none' : `${p.skipped ? 1 : 2}px ${line}`;
    if (narrow) el.style.borderLeft = `1px ${line}`;
    el.style.borderRadius = narrow ? '0' : '3px';
  }

  /** After a zoom: the proposals' edges for their new width. */
  private restyleProposals(ws: WaveSurfer): void {
    const duration = ws.getDuration();
    if (!this.regions || !duration || this.proposals.length === 0) return;
    const pxPerSecond = ws.getWrapper().scrollWidth / duration;
    for (const region of this.regions.getRegions()) {
      const p = /^p\d+$/.test(region.id) ? this.proposals[Number(region.id.slice(1))] : undefined;
      if (p && region.element) this.proposalEdges(region.element, p, (region.end - region.start) * pxPerSecond);
    }
  }

  /** Draws the current utterance at a span not yet saved (a nudge in progress), recording time. */
  previewSpan(start: number, end: number): void {
    const region = this.regions?.getRegions().find((r) => r.id === `u${this.currentId}`);
    if (!region) return;
    region.setOptions({ start: Math.max(0, start - this.clipStart), end: end - this.clipStart });
    this.styleRegion(region);
  }

  /** Which edge of the current utterance the nudge keys move (drawn thicker). */
  setBoundary(side: 'start' | 'end'): void {
    this.boundary = side;
    const region = this.regions?.getRegions().find((r) => r.id === `u${this.currentId}`);
    if (region) this.styleRegion(region);
  }

  /** Puts the cursor at `time` (recording time): now, when it is in the clip, else once the next clip is ready. */
  seekTo(time: number): void {
    const ws = this.ws;
    const local = time - this.clipStart;
    if (ws && this.ready && local >= 0 && local <= ws.getDuration()) {
      ws.setTime(local);
      this.time = time;
    } else this.pendingSeek = time;
  }

  private styleRegion(region: Region): void {
    const style = this.styles.find((s) => `u${s.utteranceId}` === region.id);
    const colour = style?.colour ?? '#8a94a6';
    const current = style?.current ?? false;
    const predicted = style?.origin !== undefined;
    const fill = current ? (predicted ? 0.09 : 0.16) : predicted ? 0.04 : 0.06;
    region.setOptions({ color: withAlpha(colour, fill) });
    const el = region.element;
    if (!el) return;
    const line = predicted ? 'dotted' : current ? 'solid' : 'dashed';
    const border = `${current ? 2 : 1}px ${line} ${withAlpha(colour, current ? (predicted ? 0.75 : 1) : predicted ? 0.5 : 0.7)}`;
    el.style.borderLeft = border;
    el.style.borderRight = border;
    if (current && this.edit) {
      // The edge the nudge keys move: thicker, in the accent colour.
      const chosen = `4px solid var(--accent)`;
      if (this.boundary === 'start') el.style.borderLeft = chosen;
      else el.style.borderRight = chosen;
      el.setAttribute('data-boundary', this.boundary);
    }
    el.style.boxSizing = 'border-box';
    el.style.zIndex = current ? '3' : '2';
    const what =
      style?.origin === 'model'
        ? ' (predicted by the model, not confirmed)'
        : style?.origin === 'import'
          ? ' (from the imported manifest, not confirmed)'
          : '';
    el.setAttribute('title', style ? `${style.label}${what}${current ? ' (this utterance)' : ''}` : '');
    el.setAttribute('data-region', current ? 'current' : 'neighbour');
    el.setAttribute('data-origin', style?.origin ?? 'human');
    const tag = region.content;
    if (tag) {
      tag.textContent = style ? style.label : '';
      const solid = readableOn(colour);
      tag.style.background = current && !predicted ? solid.background : withAlpha(colour, predicted ? 0.14 : 0.18);
      tag.style.color = current && !predicted ? solid.text : 'var(--text)';
      tag.style.outline = predicted ? `1px dotted ${colour}` : '';
      tag.style.outlineOffset = predicted ? '-1px' : '';
      tag.style.opacity = current ? '1' : '0.85';
    }
  }

  private fitPxPerSecond(): number {
    const ws = this.ws;
    if (!ws || !ws.getDuration()) return 100;
    return ws.getWidth() / ws.getDuration();
  }

  private currentPxPerSecond(): number {
    return this.zoom > 0 ? this.zoom : this.fitPxPerSecond();
  }

  private applyZoom(pxPerSecond: number): void {
    this.zoom = pxPerSecond;
    if (this.ws && this.ready) this.ws.zoom(pxPerSecond);
  }
}

const MIN_WAVE_HEIGHT = 40;
/** A proposal narrower than this (px) is drawn by its left edge only, not boxed. */
const NARROW_PROPOSAL_PX = 10;
const TICK_STEPS = [
  0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.25, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 1200,
];
/** Labelled ticks are at least this far apart, whatever the zoom. */
const MIN_LABEL_SPACING_PX = 64;
/** About how wide a tick label's characters are (10 px digits) and its padding, to keep labels apart. */
const LABEL_CHAR_PX = 6;
const LABEL_PAD_PX = 4;
const LABEL_GAP_PX = 6;

/**
 * The time axis under the waveform, for what is in view: labelled ticks spaced for the current
 * zoom, minor ticks between them, following the waveform's scroll (recording time, not clip time).
 */
function drawTimeline(ws: WaveSurfer, timeline: HTMLElement, clipStart: number): void {
  const duration = ws.getDuration();
  const total = ws.getWrapper().scrollWidth;
  if (!duration || !total) return;
  const pxPerSecond = total / duration;
  const step = TICK_STEPS.find((s) => s * pxPerSecond >= MIN_LABEL_SPACING_PX) ?? TICK_STEPS.at(-1)!;
  const minor = step / 5;
  const scroll = ws.getScroll();
  const width = timeline.clientWidth;
  const ticks: HTMLElement[] = [];
  // Where the last label drawn ends: a label that would run into it is left out (its tick stays).
  let lastLabelRight = -Infinity;
  // Ticks at round recording times (1:00.50, not the clip's start plus a step), for what is in view.
  const first = Math.max(0, Math.floor((clipStart + scroll / pxPerSecond) / minor));
  const last = Math.min(
    Math.floor((clipStart + duration) / minor + 1e-6),
    Math.ceil((clipStart + (scroll + width) / pxPerSecond) / minor),
  );
  for (let i = first; i <= last; i++) {
    const t = i * minor;
    const x = (t - clipStart) * pxPerSecond - scroll;
    if (x < 0 || x > width) continue;
    const tick = document.createElement('span');
    tick.className = 'tick';
    tick.style.left = `${x}px`;
    if (i % 5 === 0) {
      const text = formatTick(t, step);
      const room = text.length * LABEL_CHAR_PX + LABEL_PAD_PX;
      // Near the right edge the label goes left of its tick, so it is not cut off.
      const flipped = x + room > width;
      const left = flipped ? x - room : x;
      if (left >= lastLabelRight + LABEL_GAP_PX) {
        tick.textContent = text;
        tick.classList.add('major');
        if (flipped) tick.classList.add('end');
        lastLabelRight = left + room;
      }
    }
    ticks.push(tick);
  }
  timeline.replaceChildren(...ticks);
}

/** A tick's time: as elsewhere (1:02.50), with milliseconds when the ticks are closer than 10 ms. */
function formatTick(seconds: number, step: number): string {
  if (step >= 0.01) return formatSeconds(seconds);
  const s = Math.max(0, seconds);
  const minutes = Math.floor(s / 60);
  const rest = (s - minutes * 60).toFixed(3);
  return minutes > 0 ? `${minutes}:${rest.padStart(6, '0')}` : rest;
}

/** The small name tag drawn at the top of a region (styled per label in styleRegion). */
function regionTag(): HTMLElement {
  const tag = document.createElement('span');
  Object.assign(tag.style, {
    display: 'inline-block',
    margin: '3px',
    padding: '1px 6px',
    borderRadius: '3px',
    font: '600 10px/14px system-ui, sans-serif',
    whiteSpace: 'nowrap',
    pointerEvents: 'none',
  });
  return tag;
}

/** The utterance a region of ours stands for, or null (a proposal, a drag selection). */
function utteranceIdOf(region: Region): number | null {
  return /^u\d+$/.test(region.id) ? Number(region.id.slice(1)) : null;
}
