import { flushSync } from 'svelte';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Messages } from './messages.svelte';

describe('Messages', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('keeps an error until it is dismissed or superseded', () => {
    const messages = new Messages();
    expect(messages.error).toBeNull();
    messages.showError('Could not save the label');
    vi.advanceTimersByTime(60_000);
    expect(messages.error).toBe('Could not save the label');
    messages.showError('Could not undo');
    expect(messages.error).toBe('Could not undo');
    messages.dismissError();
    expect(messages.error).toBeNull();
  });

  it('shows a notice for four seconds, and a newer one for four seconds from when it came', () => {
    const messages = new Messages();
    messages.showNotice('Nothing to undo');
    vi.advanceTimersByTime(3000);
    expect(messages.notice).toBe('Nothing to undo');
    messages.showNotice('Nothing to redo');
    vi.advanceTimersByTime(3000);
    expect(messages.notice).toBe('Nothing to redo');
    vi.advanceTimersByTime(1000);
    expect(messages.notice).toBeNull();
  });

  it('is reactive: an effect sees each notice', () => {
    const messages = new Messages();
    const seen: (string | null)[] = [];
    const cleanup = $effect.root(() => {
      $effect(() => {
        seen.push(messages.notice);
      });
    });
    flushSync();
    messages.showNotice('Undid a change');
    flushSync();
    vi.advanceTimersByTime(4000);
    flushSync();
    expect(seen).toEqual([null, 'Undid a change', null]);
    cleanup();
  });
});
