import { describe, expect, it } from 'vitest';
import {
  actionFor,
  DEFAULT_BINDINGS,
  keysFor,
  parseBindings,
  rebind,
  SHORTCUTS,
  type FocusInfo,
  type KeyBindings,
  type KeyPress,
} from '../../src/renderer/src/lib/util/shortcuts';

const press = (key: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key,
  code: '',
  shiftKey: false,
  altKey: false,
  ctrlKey: false,
  metaKey: false,
  repeat: false,
  ...mods,
});
const LIST: FocusInfo = { ownsEnter: false, ownsArrows: false, ownsSpace: false, rating: null };
const FOCUSES: FocusInfo[] = [
  LIST,
  { ownsEnter: true, ownsArrows: false, ownsSpace: false, rating: null },
  { ownsEnter: true, ownsArrows: true, ownsSpace: true, rating: 'valence' },
  { ownsEnter: true, ownsArrows: false, ownsSpace: true, rating: null },
];

function bound(bindings: KeyBindings, action: keyof KeyBindings, p: KeyPress): KeyBindings {
  const result = rebind(bindings, action, p);
  if (!('bindings' in result)) throw new Error(result.refused);
  return result.bindings;
}

describe('rebindable keys', () => {
  it('U flags unsure by default, and the table shows it', () => {
    expect(actionFor(press('u'), LIST)).toEqual({ kind: 'toggleUnsure' });
    const row = SHORTCUTS.find((s) => s.action === 'toggleUnsure')!;
    expect(keysFor(row, DEFAULT_BINDINGS)).toEqual(['U']);
  });

  it('moves an action to a free key: the old key does nothing, the overlay shows the new one', () => {
    const b = bound(DEFAULT_BINDINGS, 'next', press('x'));
    expect(actionFor(press('x'), LIST, b)).toEqual({ kind: 'next' });
    expect(actionFor(press('j'), LIST, b)).toBeNull();
    // The fixed alternative stays.
    expect(actionFor(press('ArrowDown'), LIST, b)).toEqual({ kind: 'next' });
    expect(
      keysFor(
        SHORTCUTS.find((s) => s.action === 'next')!,
        b,
      ),
    ).toEqual(['X', '↓']);
    // Symbols that need Shift are bound as typed.
    const q = bound(DEFAULT_BINDINGS, 'help', press('/'));
    expect(actionFor(press('/'), LIST, q)).toEqual({ kind: 'help' });
    expect(actionFor(press('?', { shiftKey: true }), LIST, q)).toBeNull();
  });

  it('refuses a key another shortcut has, naming it', () => {
    const cases: [keyof KeyBindings, KeyPress, RegExp][] = [
      ['next', press('k'), /K is already bound to “Previous utterance”/],
      ['replay', press('s'), /S is already bound to “Split the segment/],
      ['toggleLoop', press('Enter'), /Enter is already bound to “Accept the model's prediction/],
      ['accept', press(' '), /Space is already bound to “Play or pause/],
      ['zoomOut', press('='), /= is already bound to “Zoom in”/],
    ];
    for (const [action, p, message] of cases) {
      const result = rebind(DEFAULT_BINDINGS, action, p);
      expect(result, `${action} → ${p.key}`).toEqual({ refused: expect.stringMatching(message) });
    }
    // Keys no action may take: digits (labels), modifier combinations, arrows, Escape, Backspace, Delete.
    for (const p of [
      press('3'),
      press('x', { ctrlKey: true }),
      press('X', { shiftKey: true }),
      press('x', { altKey: true }),
      press('ArrowLeft'),
      press('Escape'),
      press('Backspace'),
      press('Delete'),
      press('Tab'),
    ])
      expect(rebind(DEFAULT_BINDINGS, 'next', p), p.key).toEqual({ refused: expect.stringMatching(/cannot be bound/) });
  });

  it('rebinding the same key to the same action is fine; a swap goes through a free key', () => {
    expect(rebind(DEFAULT_BINDINGS, 'next', press('j'))).toEqual({ bindings: { ...DEFAULT_BINDINGS } });
    let b = bound(DEFAULT_BINDINGS, 'next', press('x'));
    b = bound(b, 'previous', press('j'));
    b = bound(b, 'next', press('k'));
    expect(actionFor(press('k'), LIST, b)).toEqual({ kind: 'next' });
    expect(actionFor(press('j'), LIST, b)).toEqual({ kind: 'previous' });
    // Stored and read back, the swap holds.
    expect(parseBindings(JSON.parse(JSON.stringify(b)))).toEqual(b);
  });

  it('never gives one key two actions in different focus states, whatever the bindings', () => {
    let b = bound(DEFAULT_BINDINGS, 'accept', press('a'));
    b = bound(b, 'next', press('Enter'));
    b = bound(b, 'playPause', press('p'));
    b = bound(b, 'toggleUnsure', press(' '));
    const keys = ['Enter', ' ', 'a', 'p', 'u', 'j', 'Home', 'End', '?', '+', '='];
    for (const k of keys) {
      const actions = new Set(
        FOCUSES.map((f) => actionFor(press(k), f, b))
          .filter((a) => a !== null && a.kind !== 'hint')
          .map((a) => JSON.stringify(a)),
      );
      expect(actions.size, k).toBeLessThanOrEqual(1);
    }
    // Enter and Space stay the focused control's.
    expect(actionFor(press('Enter'), FOCUSES[1]!, b)).toBeNull();
    expect(actionFor(press(' '), FOCUSES[3]!, b)).toBeNull();
    expect(actionFor(press('Enter'), LIST, b)).toEqual({ kind: 'next' });
  });

  it('reads stored bindings defensively: a bad or clashing key falls back to the default', () => {
    expect(parseBindings(null)).toEqual(DEFAULT_BINDINGS);
    expect(parseBindings('j')).toEqual(DEFAULT_BINDINGS);
    expect(parseBindings({ next: 42, replay: 's', help: '3', zoomIn: 'q' })).toEqual({
      ...DEFAULT_BINDINGS,
      zoomIn: 'q',
    });
    // Two actions on one key: the first keeps it, the second gets its default back.
    expect(parseBindings({ next: 'x', previous: 'x' })).toEqual({ ...DEFAULT_BINDINGS, next: 'x' });
  });
});
