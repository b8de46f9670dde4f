/** Which colours the studio uses: the OS setting (prefers-color-scheme), or a chosen theme. */
export type ThemeChoice = 'system' | 'light' | 'dark';

const THEME_KEY = 'wavfusion.theme';
const ORDER: ThemeChoice[] = ['system', 'light', 'dark'];

/** The theme switch: remembered per browser, applied as `data-theme` on <html> (app.css has the tokens). */
export class ThemeState {
  choice = $state<ThemeChoice>(readTheme());

  constructor() {
    this.apply();
  }

  /** system → light → dark → system. */
  cycle(): void {
    this.set(ORDER[(ORDER.indexOf(this.choice) + 1) % ORDER.length]!);
  }

  set(choice: ThemeChoice): void {
    this.choice = choice;
    try {
      localStorage.setItem(THEME_KEY, choice);
    } catch {
      // Storage may be unavailable; the choice still holds for this page.
    }
    this.apply();
  }

  private apply(): void {
    const root = document.documentElement;
    if (this.choice === 'system') delete root.dataset.theme;
    else root.dataset.theme = this.choice;
  }
}

function readTheme(): ThemeChoice {
  try {
    const stored = localStorage.getItem(THEME_KEY);
    return stored === 'light' || stored === 'dark' ? stored : 'system';
  } catch {
    return 'system';
  }
}
