import type { AnnotatorRole, LabellingSettings, RosterEntry, StudioClient } from '../../../../shared/contract';
import { errorMessage } from '../util/format';

/**
 * The roster and the labelling settings (K, blind mode, consensus rule, shares, calibration), as the
 * Team dialog shows them. They follow the core's `labellingChanged` event, whoever changed them (this
 * window, another one, a merge that added annotators); an action takes the core's answer and never
 * reloads. Read once when the dialog first needs them (and again after a reconnect, events may have
 * been missed).
 */
export class TeamState {
  #roster = $state.raw<RosterEntry[]>([]);
  #settings = $state.raw<LabellingSettings | null>(null);
  #loaded = $state(false);
  /** Why the roster could not be read, if it could not. */
  #loadError = $state<string | null>(null);

  constructor(private readonly client: StudioClient) {}

  get roster(): RosterEntry[] {
    return this.#roster;
  }
  get settings(): LabellingSettings | null {
    return this.#settings;
  }
  /** The roster and settings have been read (or announced) at least once. */
  get loaded(): boolean {
    return this.#loaded;
  }
  get loadError(): string | null {
    return this.#loadError;
  }

  /** `name`'s role (case-insensitive, as the core matches names); 'annotator' when not on the roster. */
  roleOf(name: string): AnnotatorRole {
    const key = name.toLowerCase();
    return this.#roster.find((r) => r.name.toLowerCase() === key)?.role ?? 'annotator';
  }

  /** Follows the core's labellingChanged event; returns the unsubscribe. */
  connect(): () => void {
    return this.client.on('labellingChanged', ({ roster, settings }) => {
      this.#roster = roster;
      this.#settings = settings;
      this.#loaded = true;
      this.#loadError = null;
    });
  }

  async load(): Promise<void> {
    try {
      const [roster, settings] = await Promise.all([
        this.client.listAnnotators({}),
        this.client.getLabellingSettings({}),
      ]);
      this.#roster = roster;
      this.#settings = settings;
      this.#loaded = true;
      this.#loadError = null;
    } catch (err) {
      this.#loadError = errorMessage(err);
    }
  }

  /** Adds a person or changes their role; returns the core's refusal, if any. */
  async saveAnnotator(name: string, role: AnnotatorRole): Promise<string | null> {
    return await this.#sendRoster(() => this.client.saveAnnotator({ name, role }));
  }

  /** Sets an annotator's share (0 < share <= 1); returns the core's refusal, if any (nothing changed). */
  async setShare(name: string, share: number): Promise<string | null> {
    return await this.#sendRoster(() => this.client.setAnnotatorShare({ name, share }));
  }

  async remove(name: string): Promise<string | null> {
    return await this.#sendRoster(() => this.client.removeAnnotator({ name }));
  }

  /** Changes the settings; returns the core's refusal, if any (the settings stay as they were). */
  async changeSettings(change: Partial<LabellingSettings>): Promise<string | null> {
    try {
      this.#settings = await this.client.setLabellingSettings(change);
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }

  async #sendRoster(send: () => Promise<RosterEntry[]>): Promise<string | null> {
    try {
      this.#roster = await send();
      return null;
    } catch (err) {
      return errorMessage(err);
    }
  }
}
