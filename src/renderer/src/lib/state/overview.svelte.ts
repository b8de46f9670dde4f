import type { RecordingOverview, StudioClient } from '../../../../shared/contract';
import { errorMessage } from '../util/format';

/** Peaks asked for: about the overview's width in pixels on a large screen. */
const OVERVIEW_PEAKS = 1200;
/** A load waits this long for the selection to settle: a burst of J presses asks once, for the last. */
export const OVERVIEW_SETTLE_MS = 200;

/**
 * The overview of the selected utterance's recording (its peaks and every segment with its label),
 * loaded with each clip once the selection has settled (`settleMs`); only the latest load's answer is kept.
 */
export class OverviewState {
  #overview = $state<RecordingOverview | null>(null);
  #error = $state<string | null>(null);
  #latest = 0;
  #client: StudioClient;
  #settleMs: number;

  constructor(client: StudioClient, settleMs = OVERVIEW_SETTLE_MS) {
    this.#client = client;
    this.#settleMs = settleMs;
  }

  get overview(): RecordingOverview | null {
    return this.#overview;
  }
  get error(): string | null {
    return this.#error;
  }

  /** Loads the recording's overview (`around`: the time whose segments matter most when there are many). */
  async load(recordingId: number, around: number): Promise<void> {
    const seq = ++this.#latest;
    if (this.#settleMs > 0) {
      await new Promise((resolve) => setTimeout(resolve, this.#settleMs));
      if (seq !== this.#latest) return; // a later selection asks instead
    }
    try {
      const overview = await this.#client.getRecordingOverview({ recordingId, peaks: OVERVIEW_PEAKS, around });
      if (seq !== this.#latest) return;
      this.#overview = overview;
      this.#error = null;
    } catch (err) {
      if (seq !== this.#latest) return;
      this.#overview = null;
      this.#error = `The recording overview could not be loaded: ${errorMessage(err)}`;
    }
  }

  clear(): void {
    this.#latest++;
    this.#overview = null;
    this.#error = null;
  }
}
