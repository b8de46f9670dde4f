/** What a key press in the annotation view asks for. */
export type ShortcutAction =
  | { kind: 'label'; hotkey: string }
  | { kind: 'clear' }
  | { kind: 'next' }
  | { kind: 'previous' }
  | { kind: 'playPause' }
  | { kind: 'toggleLoop' }
  | { kind: 'undo' }
  | { kind: 'redo' }
  | { kind: 'accept' };

const TEXT_INPUT_TYPES = new Set([
  'text',
  'search',
  'email',
  'number',
  'password',
  'tel',
  'url',
  'date',
  'time',
  'datetime-local',
  'month',
  'week',
]);

/** True when the key goes to something the person is typing in. */
export function isTypingTarget(target: EventTarget | null): boolean {
  if (!(target instanceof HTMLElement)) return false;
  if (target.isContentEditable) return true;
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  return target instanceof HTMLInputElement && TEXT_INPUT_TYPES.has(target.type);
}

/** True for controls that Enter activates (buttons, links, checkboxes…): Enter stays theirs. */
function ownsEnter(target: EventTarget | null): boolean {
  if (!(target instanceof Element)) return false;
  if (target.closest('[role="listbox"], [role="option"]')) return false;
  return (
    target instanceof HTMLButtonElement ||
    target instanceof HTMLAnchorElement ||
    target instanceof HTMLInputElement ||
    target.closest('button, a[href], summary, [role="button"], [role="menuitem"], [role="tab"]') !== null
  );
}

/** True for controls that use the arrow keys themselves (radio groups, sliders). */
function ownsArrowKeys(target: EventTarget | null): boolean {
  return target instanceof HTMLInputElement && (target.type === 'radio' || target.type === 'range');
}

/**
 * Maps a key press to an action, or null when the key is not a shortcut here (typing in a field, a
 * modal dialog open, a modifier combination we do not use).
 */
export function shortcutFor(event: KeyboardEvent): ShortcutAction | null {
  if (event.isComposing || event.defaultPrevented) return null;
  const target = event.target;
  if (isTypingTarget(target)) return null;
  if (target instanceof Element && target.closest('dialog[open]')) return null;
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key;
  if (mod && !event.altKey) {
    const lower = key.toLowerCase();
    if (lower === 'z') return event.shiftKey ? { kind: 'redo' } : { kind: 'undo' };
    if (lower === 'y' && !event.shiftKey) return { kind: 'redo' };
    return null;
  }
  if (event.altKey || event.ctrlKey || event.metaKey) return null;
  if (/^[1-9]$/.test(key)) return { kind: 'label', hotkey: key };
  if (key === '0' || key === 'Backspace') return { kind: 'clear' };
  if (key === 'j' || key === 'J') return { kind: 'next' };
  if (key === 'k' || key === 'K') return { kind: 'previous' };
  if ((key === 'ArrowDown' || key === 'ArrowUp') && !ownsArrowKeys(target))
    return { kind: key === 'ArrowDown' ? 'next' : 'previous' };
  if (key === ' ' || key === 'Spacebar') {
    // Space still toggles checkboxes and picks radios; everywhere else (buttons included) it plays.
    if (target instanceof HTMLInputElement && (target.type === 'checkbox' || target.type === 'radio')) return null;
    return { kind: 'playPause' };
  }
  if (key === 'l' || key === 'L') return { kind: 'toggleLoop' };
  if (key === 'Enter' && !event.shiftKey && !event.repeat && !ownsEnter(target)) return { kind: 'accept' };
  return null;
}
