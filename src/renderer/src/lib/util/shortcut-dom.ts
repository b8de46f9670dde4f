import { actionFor, DEFAULT_BINDINGS, type FocusInfo, type KeyBindings, type ShortcutAction } from './shortcuts';

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

/** The rating scale a focused control belongs to, if any. */
function ratingOf(target: EventTarget | null): string | null {
  if (!(target instanceof Element)) return null;
  return target.closest<HTMLElement>('[data-rating]')?.dataset.rating ?? null;
}

function focusInfo(target: EventTarget | null): FocusInfo {
  const toggle = target instanceof HTMLInputElement && (target.type === 'checkbox' || target.type === 'radio');
  return {
    ownsEnter: ownsEnter(target),
    ownsArrows: ownsArrowKeys(target),
    ownsSpace: toggle,
    rating: ratingOf(target),
  };
}

/**
 * Maps a key press to an action, or null when the key is not a shortcut here (typing in a field, a
 * modal dialog open, a modifier combination we do not use).
 */
export function shortcutFor(
  event: KeyboardEvent,
  bindings: Readonly<KeyBindings> = DEFAULT_BINDINGS,
): ShortcutAction | null {
  if (event.isComposing || event.defaultPrevented) return null;
  const target = event.target;
  if (isTypingTarget(target)) return null;
  if (target instanceof Element && target.closest('dialog[open]')) return null;
  return actionFor(event, focusInfo(target), bindings);
}
