import type { BulkAcceptPreview, ModelReport, StudioClient, UtteranceFilter } from '../../../../shared/contract';
import { errorMessage } from '../util/format';

/**
 * The Model report view: the active model's report (on the whole project or the current filter) and
 * bulk accept by confidence, previewed before it is done. Lives while the view is open.
 */
export class ModelReportState {
  report = $state.raw<ModelReport | null>(null);
  loading = $state(false);
  error = $state<string | null>(null);
  /** Whether the report covers only the list's current filter. */
  onlyFilter = $state(false);

  threshold = $state(0.9);
  preview = $state.raw<BulkAcceptPreview | null>(null);
  previewing = $state(false);
  accepting = $state(false);
  bulkError = $state<string | null>(null);
  /** How many were accepted by the last bulk accept (until the next preview). */
  accepted = $state<number | null>(null);

  constructor(
    private readonly client: StudioClient,
    private readonly filter: () => UtteranceFilter,
  ) {}

  async load(): Promise<void> {
    this.loading = true;
    try {
      this.report = await this.client.getModelReport(this.onlyFilter ? { filter: this.filter() } : {});
      this.error = null;
    } catch (err) {
      this.error = `Could not make the report: ${errorMessage(err)}`;
    } finally {
      this.loading = false;
    }
  }

  setOnlyFilter(on: boolean): void {
    this.onlyFilter = on;
    void this.load();
  }

  setThreshold(value: number): void {
    this.threshold = Math.min(1, Math.max(0, value));
    this.preview = null;
    this.accepted = null;
  }

  async previewBulk(): Promise<void> {
    this.previewing = true;
    this.accepted = null;
    try {
      this.preview = await this.client.previewBulkAccept({ threshold: this.threshold, filter: this.filter() });
      this.bulkError = null;
    } catch (err) {
      this.preview = null;
      this.bulkError = errorMessage(err);
    } finally {
      this.previewing = false;
    }
  }

  async acceptBulk(): Promise<void> {
    const preview = this.preview;
    if (!preview || preview.count === 0) return;
    this.accepting = true;
    try {
      const { accepted } = await this.client.bulkAccept({
        threshold: preview.threshold,
        filter: this.filter(),
        expectedCount: preview.count,
      });
      this.accepted = accepted;
      this.preview = null;
      this.bulkError = null;
      await this.load();
    } catch (err) {
      this.bulkError = errorMessage(err);
    } finally {
      this.accepting = false;
    }
  }
}
