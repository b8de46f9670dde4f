import type { RecordingOverview, StudioClient } from '../../../../shared/contract';
import { errorMessage } from '../util/format';

/** Peaks asked for: about the overview's width in pixels on a large screen. */
const OVERVIEW_PEAKS = 1200;

/**
 * The overview of the selected utterance's recording (its peaks and every segment with its label),
 * loaded with each clip; only the latest load's answer is kept.
 */
export class OverviewState {
  #overview = $state<RecordingOverview | null>(null);
  #error = $state<string | null>(null);
  #latest = 0;
  #client: StudioClient;

  constructor(client: StudioClient) {
    this.#client = client;
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
