import {
  DEFAULT_BINDINGS,
  parseBindings,
  rebind,
  type KeyBindings,
  type KeyPress,
  type RebindableAction,
} from '../util/shortcuts';

const KEYS_KEY = 'wavfusion.keys';

/**
 * The person's key bindings (settings: the `?` overlay). Remembered per browser, as the theme is; the
 * key table (util/shortcuts.ts) stays the one place that binds keys and checks a new binding.
 */
export class KeyBindingsState {
  bindings = $state.raw<KeyBindings>(readBindings());
  changed = $derived(
    (Object.keys(DEFAULT_BINDINGS) as RebindableAction[]).some((a) => this.bindings[a] !== DEFAULT_BINDINGS[a]),
  );

  /** Binds `action` to the pressed key; returns the refusal (which action has the key) or null. */
  rebind(action: RebindableAction, press: KeyPress): string | null {
    const result = rebind(this.bindings, action, press);
    if ('refused' in result) return result.refused;
    this.bindings = result.bindings;
    this.store(JSON.stringify(result.bindings));
    return null;
  }

  reset(): void {
    this.bindings = { ...DEFAULT_BINDINGS };
    this.store(null);
  }

  private store(value: string | null): void {
    try {
      if (value === null) localStorage.removeItem(KEYS_KEY);
      else localStorage.setItem(KEYS_KEY, value);
    } catch {
      // Storage may be unavailable; the bindings still hold for this page.
    }
  }
}

function readBindings(): KeyBindings {
  try {
    const stored = localStorage.getItem(KEYS_KEY);
    return stored ? parseBindings(JSON.parse(stored)) : { ...DEFAULT_BINDINGS };
  } catch {
    return { ...DEFAULT_BINDINGS };
  }
}
