import type { AgreementReport, StudioClient } from '../../../../shared/contract';
import { errorMessage } from '../util/format';

/** The Team dialog's agreement report (κ/α with bootstrap intervals), computed by the core when asked. */
export class AgreementState {
  #report = $state.raw<AgreementReport | null>(null);
  #computing = $state(false);

  constructor(private readonly client: StudioClient) {}

  get report(): AgreementReport | null {
    return this.#report;
  }
  get computing(): boolean {
    return this.#computing;
  }

  /** Computes the report (200 bootstrap rounds, seed 13); returns the core's refusal, if any (the last report stays). */
  async load(): Promise<string | null> {
    this.#computing = true;
    try {
      this.#report = await this.client.getAgreement({ bootstrap: 200, seed: 13 });
      return null;
    } catch (err) {
      return errorMessage(err);
    } finally {
      this.#computing = false;
    }
  }
}
