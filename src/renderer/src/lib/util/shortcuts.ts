/** The dimensions rated 1–5 beside the label (kept here so the key table needs no state import). */
export type RatingDimension = 'valence' | 'arousal' | 'dominance';

/** Actions that need nothing but their name. */
export type SimpleAction =
  | 'clear'
  | 'next'
  | 'previous'
  | 'first'
  | 'last'
  | 'playPause'
  | 'replay'
  | 'seekBack'
  | 'seekForward'
  | 'zoomIn'
  | 'zoomOut'
  | 'toggleLoop'
  | 'toggleSpectrogram'
  | 'undo'
  | 'redo'
  | 'accept'
  | 'focusNote'
  | 'toggleUnsure'
  | 'help'
  | 'findSpeech'
  | 'split'
  | 'merge'
  | 'deleteSegment'
  | 'chooseBoundary'
  | 'previousSegment'
  | 'nextSegment'
  | 'previousGap'
  | 'nextGap';

/** Actions whose key the person may change (settings: the `?` overlay's "Change" buttons). */
export type RebindableAction =
  | 'next'
  | 'previous'
  | 'first'
  | 'last'
  | 'playPause'
  | 'replay'
  | 'toggleLoop'
  | 'toggleSpectrogram'
  | 'zoomIn'
  | 'zoomOut'
  | 'focusNote'
  | 'toggleUnsure'
  | 'accept'
  | 'help';

/**
 * The key of each rebindable action, as KeyboardEvent.key gives it (letters lower case, `' '` for
 * Space). Other keys (digits, Backspace, arrows, modifier combinations, the segment keys) are fixed.
 */
export type KeyBindings = Record<RebindableAction, string>;

export const DEFAULT_BINDINGS: Readonly<KeyBindings> = {
  next: 'j',
  previous: 'k',
  first: 'Home',
  last: 'End',
  playPause: ' ',
  replay: 'r',
  toggleLoop: 'l',
  toggleSpectrogram: 'g',
  zoomIn: '+',
  zoomOut: '-',
  focusNote: 'n',
  toggleUnsure: 'u',
  accept: 'Enter',
  help: '?',
};

/** What a key press in the annotation view asks for. */
export type ShortcutAction =
  | { kind: 'label'; hotkey: string }
  | { kind: 'rate'; dimension: RatingDimension; value: number | null }
  /** A key that does nothing here, with a word on what does. */
  | { kind: 'hint'; message: string }
  /** Move the chosen edge of the selected segment by `ms` (negative: earlier). */
  | { kind: 'nudge'; ms: number }
  | { kind: SimpleAction };

export type ShortcutGroup = 'Labelling' | 'Ratings' | 'Moving' | 'Playback' | 'Segments' | 'History' | 'Help';

/** One row of the key table: what the overlay shows, and the test that binds it. */
export interface Shortcut {
  group: ShortcutGroup;
  /** The keys with the default bindings, as shown (each entry one alternative). */
  keys: string[];
  description: string;
  /** Set for a rebindable shortcut: its first key is the binding of this action. */
  action?: RebindableAction;
  /** A rebindable shortcut's other keys, which stay (↓ beside J). */
  fixedKeys?: string[];
  /**
   * The action for this key press, or null when it is not this shortcut. Modal dialogs and fields are
   * already excluded.
   */
  match: (event: KeyPress, focus: FocusInfo, bindings?: Readonly<KeyBindings>) => ShortcutAction | null;
}

/** The key press, as much of a KeyboardEvent as the table looks at (no DOM types: the table is pure). */
export interface KeyPress {
  key: string;
  code: string;
  shiftKey: boolean;
  altKey: boolean;
  ctrlKey: boolean;
  metaKey: boolean;
  repeat: boolean;
}

/** What the focused element does with keys itself (worked out by shortcut-dom.ts). */
export interface FocusInfo {
  /** Enter activates it (a button, link, checkbox…). */
  ownsEnter: boolean;
  /** It uses the arrow keys (a radio group, a slider). */
  ownsArrows: boolean;
  /** Space toggles it (a checkbox or radio). */
  ownsSpace: boolean;
  /** The rating scale it belongs to, if any. */
  rating: string | null;
}

const plain = (e: KeyPress) => !e.altKey && !e.ctrlKey && !e.metaKey;
const noMods = (e: KeyPress) => plain(e) && !e.shiftKey;
const isKey =
  (...keys: string[]) =>
  (e: KeyPress) =>
    keys.includes(e.key);

/** The digit of the key pressed, by position (Shift+1 types "!" on most layouts), or null. */
function digitOf(e: KeyPress): number | null {
  const m = /^(?:Digit|Numpad)([0-9])$/.exec(e.code);
  if (m) return Number(m[1]);
  return /^[0-9]$/.test(e.key) ? Number(e.key) : null;
}

const RATING_MODIFIERS: { dimension: RatingDimension; keys: string; test: (e: KeyPress) => boolean }[] = [
  { dimension: 'valence', keys: 'Shift', test: (e) => e.shiftKey && !e.altKey },
  { dimension: 'arousal', keys: 'Alt', test: (e) => e.altKey && !e.shiftKey },
  { dimension: 'dominance', keys: 'Alt+Shift', test: (e) => e.altKey && e.shiftKey },
];

const simple =
  (kind: SimpleAction, test: (e: KeyPress) => boolean) =>
  (e: KeyPress): ShortcutAction | null =>
    test(e) ? { kind } : null;

/** Named keys an action may be bound to, besides one printable character. */
const NAMED_KEYS = new Set(['Enter', ' ', 'Home', 'End', 'PageUp', 'PageDown', 'Insert']);

/** How a bound key is written: `Space`, `J`, `Enter`, `?`. */
export function keyLabel(key: string): string {
  if (key === ' ') return 'Space';
  return key.length === 1 ? key.toUpperCase() : key;
}

/** The binding a key press would be (letters lower case), or null for a key no action may take. */
export function bindableKey(press: KeyPress): string | null {
  if (press.ctrlKey || press.altKey || press.metaKey) return null;
  const key = press.key === 'Spacebar' ? ' ' : press.key;
  if (NAMED_KEYS.has(key)) return press.shiftKey ? null : key;
  if ([...key].length !== 1 || /^[0-9]$/.test(key)) return null;
  // A letter with Shift stays free (Shift + digits rate valence); a symbol may need Shift to be typed.
  if (/\p{L}/u.test(key)) return press.shiftKey ? null : key.toLowerCase();
  return key;
}

/** A rebindable shortcut: its key from the bindings (focus rules for Enter and Space), plus fixed alternatives. */
function bound(
  row: Omit<Shortcut, 'keys' | 'match' | 'action'> & { action: RebindableAction },
  extra: (e: KeyPress, focus: FocusInfo) => boolean = () => false,
): Shortcut {
  const kind = row.action;
  return {
    ...row,
    keys: [keyLabel(DEFAULT_BINDINGS[kind]), ...(row.fixedKeys ?? [])],
    match: (e, focus, bindings = DEFAULT_BINDINGS) => {
      const key = bindings[kind];
      if (key !== '' && bindableKey(e) === key) {
        // Enter and Space stay the focused control's (a button, a checkbox), whatever they are bound to.
        if (key === 'Enter' && (e.repeat || focus.ownsEnter)) return null;
        if (key === ' ' && focus.ownsSpace) return null;
        return { kind };
      }
      return extra(e, focus) ? { kind } : null;
    },
  };
}

/** The keys of a shortcut as the overlay shows them with these bindings. */
export function keysFor(shortcut: Shortcut, bindings: Readonly<KeyBindings>): string[] {
  if (!shortcut.action) return shortcut.keys;
  return [keyLabel(bindings[shortcut.action]), ...(shortcut.fixedKeys ?? [])];
}

/**
 * The key table: the one place keys are bound, and what the `?` overlay lists. Each key does one
 * thing wherever the focus is, except inside fields (typing), dialogs, and the native keys of a
 * focused control (arrows in a radio group, Enter and Space on a button).
 */
export const SHORTCUTS: readonly Shortcut[] = [
  {
    group: 'Labelling',
    keys: ['1–9'],
    description: 'Set the label with that key (and move on when auto-advance is on)',
    match: (e, focus) => {
      if (!noMods(e) || !/^[1-9]$/.test(e.key)) return null;
      const rating = focus.rating;
      if (rating) {
        const mod = RATING_MODIFIERS.find((m) => m.dimension === rating)!.keys;
        return { kind: 'hint', message: `Digits set the label; rate ${rating} with ${mod}+1–5` };
      }
      return { kind: 'label', hotkey: e.key };
    },
  },
  {
    group: 'Labelling',
    keys: ['0', 'Backspace'],
    description: 'Clear the label',
    match: (e, focus) => {
      if (!noMods(e) || (e.key !== '0' && e.key !== 'Backspace')) return null;
      if (e.key === '0' && focus.rating) return { kind: 'hint', message: 'Digits set the label' };
      return { kind: 'clear' };
    },
  },
  bound({ group: 'Labelling', action: 'accept', description: "Accept the model's prediction as the label" }),
  bound({
    group: 'Labelling',
    action: 'toggleUnsure',
    description: 'Flag the utterance unsure / skip (again: unflag)',
  }),
  ...RATING_MODIFIERS.map((m): Shortcut => ({
    group: 'Ratings',
    keys: [`${m.keys}+1–5`, `${m.keys}+0`],
    description: `Rate ${m.dimension} 1–5 (0: not rated)`,
    match: (e) => {
      if (e.ctrlKey || e.metaKey || !m.test(e)) return null;
      const digit = digitOf(e);
      if (digit === null || digit > 5) return null;
      return { kind: 'rate', dimension: m.dimension, value: digit === 0 ? null : digit };
    },
  })),
  bound({ group: 'Ratings', action: 'focusNote', description: 'Write a note (Escape leaves the note)' }),
  bound(
    { group: 'Moving', action: 'next', fixedKeys: ['↓'], description: 'Next utterance' },
    (e, focus) => noMods(e) && e.key === 'ArrowDown' && !focus.ownsArrows,
  ),
  bound(
    { group: 'Moving', action: 'previous', fixedKeys: ['↑'], description: 'Previous utterance' },
    (e, focus) => noMods(e) && e.key === 'ArrowUp' && !focus.ownsArrows,
  ),
  bound({ group: 'Moving', action: 'first', description: 'First utterance in the list' }),
  bound({ group: 'Moving', action: 'last', description: 'Last utterance in the list' }),
  // Space still toggles checkboxes and picks radios; everywhere else (buttons included) it plays.
  bound({ group: 'Playback', action: 'playPause', description: 'Play or pause the utterance' }),
  bound({ group: 'Playback', action: 'replay', description: 'Replay the utterance from its start' }),
  {
    group: 'Playback',
    keys: ['←', '→'],
    description: 'Seek 1 s back or forward',
    match: (e, focus) => {
      if (!noMods(e) || focus.ownsArrows) return null;
      if (e.key === 'ArrowLeft') return { kind: 'seekBack' };
      if (e.key === 'ArrowRight') return { kind: 'seekForward' };
      return null;
    },
  },
  bound({ group: 'Playback', action: 'toggleLoop', description: 'Loop the utterance on or off' }),
  bound({ group: 'Playback', action: 'toggleSpectrogram', description: 'Show the spectrogram or the waveform' }),
  // `=` is `+` without Shift on most layouts: it zooms in too.
  bound(
    { group: 'Playback', action: 'zoomIn', fixedKeys: ['='], description: 'Zoom in' },
    (e) => plain(e) && e.key === '=',
  ),
  bound({ group: 'Playback', action: 'zoomOut', description: 'Zoom out' }),
  {
    group: 'Segments',
    keys: ['F'],
    description: 'Find speech (VAD) in the recording in view, to review and commit',
    match: simple('findSpeech', (e) => noMods(e) && isKey('f', 'F')(e)),
  },
  {
    group: 'Segments',
    keys: ['S'],
    description: 'Split the segment at the cursor (both halves keep the labels, flagged)',
    match: simple('split', (e) => noMods(e) && isKey('s', 'S')(e)),
  },
  {
    group: 'Segments',
    keys: ['M'],
    description: 'Merge the segment with the next one',
    match: simple('merge', (e) => noMods(e) && isKey('m', 'M')(e)),
  },
  {
    group: 'Segments',
    keys: ['Shift+Delete'],
    description: 'Delete the segment (and its labels)',
    match: simple('deleteSegment', (e) => plain(e) && e.shiftKey && e.key === 'Delete'),
  },
  {
    group: 'Segments',
    keys: ['B'],
    description: 'Switch the boundary the nudge keys move (start or end)',
    match: simple('chooseBoundary', (e) => noMods(e) && isKey('b', 'B')(e)),
  },
  {
    group: 'Segments',
    keys: [',', '.'],
    description: 'Nudge the boundary 10 ms earlier or later',
    match: (e) => {
      if (!noMods(e)) return null;
      if (e.key === ',' || e.code === 'Comma') return { kind: 'nudge', ms: -10 };
      if (e.key === '.' || e.code === 'Period') return { kind: 'nudge', ms: 10 };
      return null;
    },
  },
  {
    group: 'Segments',
    keys: ['Shift+,', 'Shift+.'],
    description: 'Nudge the boundary 100 ms earlier or later',
    match: (e) => {
      if (!plain(e) || !e.shiftKey) return null;
      if (e.key === '<' || e.code === 'Comma') return { kind: 'nudge', ms: -100 };
      if (e.key === '>' || e.code === 'Period') return { kind: 'nudge', ms: 100 };
      return null;
    },
  },
  {
    group: 'Segments',
    keys: ['[', ']'],
    description: 'Previous or next segment of this recording',
    match: (e) => {
      if (!noMods(e)) return null;
      if (e.key === '[' || e.code === 'BracketLeft') return { kind: 'previousSegment' };
      if (e.key === ']' || e.code === 'BracketRight') return { kind: 'nextSegment' };
      return null;
    },
  },
  {
    group: 'Segments',
    keys: ['Shift+[', 'Shift+]'],
    description: 'Cursor to the previous or next gap between segments',
    match: (e) => {
      if (!plain(e) || !e.shiftKey) return null;
      if (e.key === '{' || e.code === 'BracketLeft') return { kind: 'previousGap' };
      if (e.key === '}' || e.code === 'BracketRight') return { kind: 'nextGap' };
      return null;
    },
  },
  {
    group: 'History',
    keys: ['Ctrl+Z'],
    description: 'Undo',
    match: simple('undo', (e) => (e.ctrlKey || e.metaKey) && !e.altKey && !e.shiftKey && e.key.toLowerCase() === 'z'),
  },
  {
    group: 'History',
    keys: ['Ctrl+Shift+Z', 'Ctrl+Y'],
    description: 'Redo',
    match: simple(
      'redo',
      (e) =>
        (e.ctrlKey || e.metaKey) &&
        !e.altKey &&
        ((e.shiftKey && e.key.toLowerCase() === 'z') || (!e.shiftKey && e.key.toLowerCase() === 'y')),
    ),
  },
  bound({ group: 'Help', action: 'help', description: 'Show these shortcuts (and change their keys)' }),
];

/** The action the key table gives a key press with this focus, or null. */
export function actionFor(
  press: KeyPress,
  focus: FocusInfo,
  bindings: Readonly<KeyBindings> = DEFAULT_BINDINGS,
): ShortcutAction | null {
  for (const shortcut of SHORTCUTS) {
    const action = shortcut.match(press, focus, bindings);
    if (action) return action;
  }
  return null;
}

const NO_FOCUS: FocusInfo = { ownsEnter: false, ownsArrows: false, ownsSpace: false, rating: null };

/**
 * Binds `action` to the key of `press`, or says why not: a key no action may take, or one another
 * shortcut has (named by its description). Every other key keeps its one meaning.
 */
export function rebind(
  bindings: Readonly<KeyBindings>,
  action: RebindableAction,
  press: KeyPress,
): { bindings: KeyBindings } | { refused: string } {
  const key = bindableKey(press);
  if (key === null)
    return {
      refused:
        'That key cannot be bound: use a letter, a symbol, Enter, Space, Home, End, Page Up/Down or Insert ' +
        '(digits set labels; Ctrl, Alt and Shift with a letter stay for ratings and history)',
    };
  const without = { ...bindings, [action]: '' };
  // Copied field by field: a KeyboardEvent's fields are getters that a spread would not copy.
  const { key: pressed, code, shiftKey, altKey, ctrlKey, metaKey } = press;
  const plainPress: KeyPress = { key: pressed, code, shiftKey, altKey, ctrlKey, metaKey, repeat: false };
  const owner = SHORTCUTS.find((s) => s.match(plainPress, NO_FOCUS, without));
  if (owner) return { refused: `${keyLabel(key)} is already bound to “${owner.description}”` };
  return { bindings: { ...bindings, [action]: key } };
}

/** The press that types `key` (a symbol such as "?" needs Shift on most layouts). */
function pressOf(key: string): KeyPress {
  return {
    key,
    code: '',
    shiftKey: /^[~!@#$%^&*()_+{}|:"<>?]$/.test(key),
    altKey: false,
    ctrlKey: false,
    metaKey: false,
    repeat: false,
  };
}

/**
 * Bindings read back from storage: each stored key that is valid and not taken, then each default
 * that is still free for the actions left (an action whose default is taken then has no key).
 */
export function parseBindings(value: unknown): KeyBindings {
  const actions = Object.keys(DEFAULT_BINDINGS) as RebindableAction[];
  if (typeof value !== 'object' || value === null) return { ...DEFAULT_BINDINGS };
  let result = Object.fromEntries(actions.map((a) => [a, ''])) as KeyBindings;
  const stored = value as Record<string, unknown>;
  for (const action of actions) {
    const key = stored[action];
    if (typeof key !== 'string' || key === '') continue;
    const next = rebind(result, action, pressOf(key));
    if ('bindings' in next) result = next.bindings;
  }
  for (const action of actions) {
    if (result[action] !== '') continue;
    const next = rebind(result, action, pressOf(DEFAULT_BINDINGS[action]));
    if ('bindings' in next) result = next.bindings;
  }
  return result;
}
