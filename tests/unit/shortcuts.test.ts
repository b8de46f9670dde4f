import { describe, expect, it } from 'vitest';
import { actionFor, SHORTCUTS, type FocusInfo, type KeyPress } from '../../src/renderer/src/lib/util/shortcuts';

const press = (key: string, code: string, mods: Partial<KeyPress> = {}): KeyPress => ({
  key,
  code,
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
  { ownsEnter: true, ownsArrows: false, ownsSpace: false, rating: null }, // a button
  { ownsEnter: true, ownsArrows: true, ownsSpace: true, rating: 'valence' }, // a rating radio
  { ownsEnter: true, ownsArrows: false, ownsSpace: true, rating: null }, // a checkbox
];

const digits = Array.from({ length: 10 }, (_, d) => [String(d), `Digit${d}`] as const);
const shifted = ')!@#$%^&*(';
const PRESSES: KeyPress[] = [
  ...digits.map(([k, c]) => press(k, c)),
  ...digits.map(([, c], d) => press(shifted[d]!, c, { shiftKey: true })),
  ...digits.map(([k, c]) => press(k, c, { altKey: true })),
  ...digits.map(([, c], d) => press(shifted[d]!, c, { altKey: true, shiftKey: true })),
  ...['j', 'k', 'n', 'r', 'l', '+', '=', '-', '?'].map((k) => press(k, `Key${k.toUpperCase()}`)),
  ...['Enter', ' ', 'Backspace', 'Home', 'End', 'ArrowUp', 'ArrowDown', 'ArrowLeft', 'ArrowRight'].map((k) =>
    press(k, k),
  ),
  press('z', 'KeyZ', { ctrlKey: true }),
  press('Z', 'KeyZ', { ctrlKey: true, shiftKey: true }),
  press('y', 'KeyY', { ctrlKey: true }),
];

describe('the key table', () => {
  it('never gives one key two different actions in different focus states', () => {
    for (const p of PRESSES) {
      const actions = new Set(
        FOCUSES.map((f) => actionFor(p, f))
          .filter((a) => a !== null && a.kind !== 'hint')
          .map((a) => JSON.stringify(a)),
      );
      expect(actions.size, `${p.key} (${p.code})`).toBeLessThanOrEqual(1);
    }
  });

  it('leaves the label alone when a rating is focused, and says which keys rate', () => {
    const rating: FocusInfo = { ...FOCUSES[2]! };
    expect(actionFor(press('2', 'Digit2'), rating)).toEqual({
      kind: 'hint',
      message: 'Digits set the label; rate valence with Shift+1–5',
    });
    expect(actionFor(press('2', 'Digit2'), LIST)).toEqual({ kind: 'label', hotkey: '2' });
  });

  it('rates with Shift, Alt and Alt+Shift by key position', () => {
    expect(actionFor(press('$', 'Digit4', { shiftKey: true }), LIST)).toEqual({
      kind: 'rate',
      dimension: 'valence',
      value: 4,
    });
    expect(actionFor(press('2', 'Digit2', { altKey: true }), LIST)).toEqual({
      kind: 'rate',
      dimension: 'arousal',
      value: 2,
    });
    expect(actionFor(press('%', 'Digit5', { altKey: true, shiftKey: true }), LIST)).toEqual({
      kind: 'rate',
      dimension: 'dominance',
      value: 5,
    });
    expect(actionFor(press('^', 'Digit6', { shiftKey: true }), LIST)).toBeNull();
  });

  it('lists every binding once, with keys and a description', () => {
    expect(new Set(SHORTCUTS.map((s) => s.description)).size).toBe(SHORTCUTS.length);
    for (const s of SHORTCUTS) expect(s.keys.length).toBeGreaterThan(0);
  });

  it('binds the segment keys, each to one row of the table only', () => {
    const cases: [KeyPress, unknown][] = [
      [press('f', 'KeyF'), { kind: 'findSpeech' }],
      [press('s', 'KeyS'), { kind: 'split' }],
      [press('m', 'KeyM'), { kind: 'merge' }],
      [press('Delete', 'Delete', { shiftKey: true }), { kind: 'deleteSegment' }],
      [press('b', 'KeyB'), { kind: 'chooseBoundary' }],
      [press(',', 'Comma'), { kind: 'nudge', ms: -10 }],
      [press('.', 'Period'), { kind: 'nudge', ms: 10 }],
      [press('<', 'Comma', { shiftKey: true }), { kind: 'nudge', ms: -100 }],
      [press('>', 'Period', { shiftKey: true }), { kind: 'nudge', ms: 100 }],
      [press('[', 'BracketLeft'), { kind: 'previousSegment' }],
      [press(']', 'BracketRight'), { kind: 'nextSegment' }],
      [press('{', 'BracketLeft', { shiftKey: true }), { kind: 'previousGap' }],
      [press('}', 'BracketRight', { shiftKey: true }), { kind: 'nextGap' }],
    ];
    for (const [p, action] of cases) {
      expect(actionFor(p, LIST), `${p.key}`).toEqual(action);
      expect(
        SHORTCUTS.filter((s) => s.match(p, LIST) !== null),
        `${p.key} bound once`,
      ).toHaveLength(1);
    }
    // Delete alone (next to Backspace, which clears the label) deletes nothing.
    expect(actionFor(press('Delete', 'Delete'), LIST)).toBeNull();
  });

  it('toggles the spectrogram with G (a rebindable Playback row)', () => {
    for (const focus of FOCUSES) expect(actionFor(press('g', 'KeyG'), focus)).toEqual({ kind: 'toggleSpectrogram' });
    expect(actionFor(press('g', 'KeyG', { ctrlKey: true }), LIST)).toBeNull();
    const row = SHORTCUTS.find((s) => s.action === 'toggleSpectrogram');
    expect(row).toMatchObject({ group: 'Playback', keys: ['G'] });
  });
});
