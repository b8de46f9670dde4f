import type { ConsensusDetail, Prediction, StudioClient, UtteranceRow } from '../../../../shared/contract';
import { errorMessage } from '../util/format';

/**
 * The Team dialog's adjudication queue: the utterances the annotators disagree on, the one open
 * (its votes and the model's prediction) and the adjudicator's final label and reason for it. The
 * list follows the core's annotationChanged event for a settled utterance, not this. Each action
 * returns the core's refusal, if any.
 */
export class AdjudicationState {
  #queue = $state.raw<UtteranceRow[]>([]);
  #current = $state.raw<ConsensusDetail | null>(null);
  #prediction = $state.raw<Prediction | null>(null);
  #finalLabel = $state<number | null>(null);
  #reason = $state('');

  constructor(private readonly client: StudioClient) {}

  get queue(): UtteranceRow[] {
    return this.#queue;
  }
  /** The utterance open: its votes. */
  get current(): ConsensusDetail | null {
    return this.#current;
  }
  get prediction(): Prediction | null {
    return this.#prediction;
  }
  get finalLabel(): number | null {
    return this.#finalLabel;
  }
  get reason(): string {
    return this.#reason;
  }

  chooseLabel(labelId: number | null): void {
    this.#finalLabel = labelId;
  }
  setReason(reason: string): void {
    this.#reason = reason;
  }

  /** Reads the queue; opens its first utterance unless the one open is still in it. */
  async load(): Promise<string | null> {
    try {
      this.#queue = (await this.client.listUtterances({ consensus: 'disagreed' })).rows;
      const current = this.#current?.utteranceId;
      if (this.#queue.length && !this.#queue.some((r) => r.id === current)) return await this.open(this.#queue[0]!.id);
      if (!this.#queue.length) this.#current = null;
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  /** Opens an utterance: its votes and prediction, with no final label or reason chosen yet. */
  async open(utteranceId: number): Promise<string | null> {
    try {
      [this.#current, this.#prediction] = await Promise.all([
        this.client.getConsensus({ utteranceId }),
        this.client.getPrediction({ utteranceId }),
      ]);
      this.#finalLabel = null;
      this.#reason = '';
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  /** Settles the utterance open with the final label and reason chosen, then reads the queue again. */
  async settle(): Promise<string | null> {
    const current = this.#current;
    const labelId = this.#finalLabel;
    if (!current || labelId === null) return null;
    try {
      await this.client.adjudicate({ utteranceId: current.utteranceId, labelId, reason: this.#reason });
    } catch (err) {
      return errorMessage(err);
    }
    this.#current = null;
    return await this.load();
  }
}
