const NOTICE_MS = 4000;

/**
 * What the page tells the user in passing: the latest error (the banner, until dismissed or
 * superseded) and a short notice (the status bar, gone after a few seconds or replaced by the next).
 */
export class Messages {
  #error = $state<string | null>(null);
  #notice = $state<string | null>(null);
  #timer: ReturnType<typeof setTimeout> | null = null;

  get error(): string | null {
    return this.#error;
  }

  get notice(): string | null {
    return this.#notice;
  }

  showError(message: string): void {
    this.#error = message;
  }

  dismissError(): void {
    this.#error = null;
  }

  showNotice(message: string): void {
    this.#notice = message;
    this.#clearTimer();
    this.#timer = setTimeout(() => {
      this.#timer = null;
      this.#notice = null;
    }, NOTICE_MS);
  }

  /** Stops the pending notice timer (the page is closing). */
  dispose(): void {
    this.#clearTimer();
  }

  #clearTimer(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
  }
}
