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
  | 'undo'
  | 'redo'
  | 'accept'
  | 'focusNote'
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
  /** The keys, as shown (each entry one alternative). */
  keys: string[];
  description: string;
  /** The action for this key press, or null when it is not this shortcut. Modal dialogs and fields are already excluded. */
  match: (event: KeyPress, focus: FocusInfo) => ShortcutAction | null;
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
  {
    group: 'Labelling',
    keys: ['Enter'],
    description: "Accept the model's prediction as the label",
    match: (e, focus) => (e.key === 'Enter' && noMods(e) && !e.repeat && !focus.ownsEnter ? { kind: 'accept' } : null),
  },
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
  {
    group: 'Ratings',
    keys: ['N'],
    description: 'Write a note (Escape leaves the note)',
    match: simple('focusNote', (e) => noMods(e) && (e.key === 'n' || e.key === 'N')),
  },
  {
    group: 'Moving',
    keys: ['J', '↓'],
    description: 'Next utterance',
    match: (e, focus) =>
      noMods(e) && (isKey('j', 'J')(e) || (e.key === 'ArrowDown' && !focus.ownsArrows)) ? { kind: 'next' } : null,
  },
  {
    group: 'Moving',
    keys: ['K', '↑'],
    description: 'Previous utterance',
    match: (e, focus) =>
      noMods(e) && (isKey('k', 'K')(e) || (e.key === 'ArrowUp' && !focus.ownsArrows)) ? { kind: 'previous' } : null,
  },
  {
    group: 'Moving',
    keys: ['Home'],
    description: 'First utterance in the list',
    match: simple('first', (e) => noMods(e) && e.key === 'Home'),
  },
  {
    group: 'Moving',
    keys: ['End'],
    description: 'Last utterance in the list',
    match: simple('last', (e) => noMods(e) && e.key === 'End'),
  },
  {
    group: 'Playback',
    keys: ['Space'],
    description: 'Play or pause the utterance',
    match: (e, focus) => {
      if (!noMods(e) || (e.key !== ' ' && e.key !== 'Spacebar')) return null;
      // Space still toggles checkboxes and picks radios; everywhere else (buttons included) it plays.
      if (focus.ownsSpace) return null;
      return { kind: 'playPause' };
    },
  },
  {
    group: 'Playback',
    keys: ['R'],
    description: 'Replay the utterance from its start',
    match: simple('replay', (e) => noMods(e) && isKey('r', 'R')(e)),
  },
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
  {
    group: 'Playback',
    keys: ['L'],
    description: 'Loop the utterance on or off',
    match: simple('toggleLoop', (e) => noMods(e) && isKey('l', 'L')(e)),
  },
  {
    group: 'Playback',
    keys: ['+', '='],
    description: 'Zoom in',
    match: simple('zoomIn', (e) => plain(e) && isKey('+', '=')(e)),
  },
  {
    group: 'Playback',
    keys: ['-'],
    description: 'Zoom out',
    match: simple('zoomOut', (e) => plain(e) && isKey('-', '_')(e)),
  },
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
  {
    group: 'Help',
    keys: ['?'],
    description: 'Show these shortcuts',
    match: simple('help', (e) => plain(e) && e.key === '?'),
  },
];

/** The action the key table gives a key press with this focus, or null. */
export function actionFor(press: KeyPress, focus: FocusInfo): ShortcutAction | null {
  for (const shortcut of SHORTCUTS) {
    const action = shortcut.match(press, focus);
    if (action) return action;
  }
  return null;
}
