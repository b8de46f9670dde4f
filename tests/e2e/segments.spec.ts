import fs from 'node:fs';
import path from 'node:path';
import { makeLongSpeech } from '../helpers/long-speech';
import { expect, parseCsv, snap, startHost, storedSegments, test, wavDuration, expectAccessible } from './fixtures';

test('a long recording: find speech, review, commit; split, merge, resize, create and delete with mouse and keys, each undone; label; export clips match the edited boundaries', async ({
  page,
  tmp,
}) => {
  test.setTimeout(240_000);
  // About two and a half minutes of espeak-ng sentences with known pauses (never committed audio).
  const work = path.join(tmp, 'work');
  const audio = path.join(tmp, 'audio');
  fs.mkdirSync(work);
  fs.mkdirSync(audio);
  const speech = makeLongSpeech(work, { sentences: 40, seed: 5 });
  fs.renameSync(speech.file, path.join(audio, 'session.wav'));
  expect(speech.duration).toBeGreaterThan(120);
  const project = path.join(tmp, 'sessions.sqlite');
  const host = await startHost({ project });
  try {
    await page.goto(host.url);
    await page.getByRole('button', { name: 'Import…' }).first().click();
    const importDialog = page.getByRole('dialog', { name: 'Import audio' });
    await importDialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(audio);
    await importDialog.getByRole('button', { name: 'Import', exact: true }).click();
    await expect(importDialog.getByTestId('count-utterances-added')).toHaveText('1');
    await importDialog.getByRole('button', { name: 'Done' }).click();
    const options = page.getByRole('listbox', { name: 'Utterances' }).getByRole('option');
    await expect(options).toHaveCount(1);
    const counts = page.getByTestId('labelled-count');
    await page.getByRole('checkbox', { name: 'Auto-advance' }).uncheck();
    await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();

    // ---- Find speech: parameters with defaults, then the proposal on the waveform ----
    await page.keyboard.press('f');
    const find = page.getByRole('dialog', { name: 'Find speech' });
    await expect(find.getByRole('spinbutton', { name: 'Speech threshold' })).toHaveValue('0.5');
    await expect(find.getByRole('spinbutton', { name: 'Minimum silence (ms)' })).toHaveValue('300');
    await expect(find).toContainText('session.wav');
    await find.getByRole('button', { name: 'Find speech' }).click();
    const review = page.getByRole('region', { name: 'Proposed segments' });
    await expect(review).toBeVisible({ timeout: 60_000 });
    await expect(review.getByTestId('proposal-count')).toHaveText(`${speech.speech.length} speech segment(s) found`);
    await expect(review.getByTestId('proposal-effect')).toContainText('replacing 1 unlabelled utterance(s)');
    await expect(page.locator('[data-region="proposed"]')).toHaveCount(speech.speech.length);
    // Nothing is stored yet.
    expect(storedSegments(project)).toHaveLength(1);
    await snap(page, 'segments-proposal-light');
    await expectAccessible(page, 'proposal review (light)');
    await page.emulateMedia({ colorScheme: 'dark' });
    await snap(page, 'segments-proposal-dark');
    await expectAccessible(page, 'proposal review (dark)');
    await page.emulateMedia({ colorScheme: 'light' });

    // Discard leaves everything as it was; run it again and commit, in one undoable step.
    await review.getByRole('button', { name: 'Discard' }).click();
    await expect(review).toBeHidden();
    await expect(page.locator('[data-region="proposed"]')).toHaveCount(0);
    await page.getByRole('button', { name: 'Find speech…' }).click();
    await find.getByRole('button', { name: 'Find speech' }).click();
    await expect(review).toBeVisible({ timeout: 60_000 });
    await review.getByRole('button', { name: /^Commit/ }).click();
    await expect(counts).toHaveText(new RegExp(`/ total ${speech.speech.length}$`));
    const committed = storedSegments(project);
    expect(committed).toHaveLength(speech.speech.length);
    await page.keyboard.press('Control+z');
    await expect(counts).toHaveText(new RegExp(`/ total ${1}$`));
    expect(storedSegments(project)).toHaveLength(1);
    await page.keyboard.press('Control+Shift+z');
    await expect(counts).toHaveText(new RegExp(`/ total ${speech.speech.length}$`));
    expect(storedSegments(project).map((s) => [s.start, s.end])).toEqual(committed.map((s) => [s.start, s.end]));

    const current = page.locator('[data-region="current"]');
    const n = speech.speech.length;
    /** Selects the k-th segment (time order) and waits for its waveform. */
    const selectSegment = async (k: number) => {
      await options.nth(k).click();
      await expect(options.nth(k)).toHaveAttribute('aria-selected', 'true');
      await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
      await expect(current).toBeVisible();
    };
    /** The x (page px) of recording time t, from the current region's drawn edges. */
    const xOf = async (t: number) => {
      const box = (await current.boundingBox())!;
      const row = selected();
      return box.x + ((t - row.start) / (row.end - row.start)) * box.width;
    };
    let selectedId = 0;
    const selected = () => storedSegments(project).find((s) => s.id === selectedId)!;
    const idOfOption = async (k: number) => Number(await options.nth(k).getAttribute('data-utterance-id'));

    // ---- Split: keyboard (S at the cursor, set by a click), then the button; each undone ----
    await selectSegment(0);
    selectedId = await idOfOption(0);
    const first = selected();
    const box0 = (await current.boundingBox())!;
    await page.mouse.click(box0.x + box0.width / 2, box0.y + box0.height * 0.8);
    await page.keyboard.press('s');
    await expect(counts).toHaveText(new RegExp(`/ total ${n + 1}$`));
    let segs = storedSegments(project);
    expect(segs[0]!.start).toBe(first.start);
    expect(segs[1]!.end).toBe(first.end);
    expect(Math.abs(segs[0]!.end - (first.start + first.end) / 2)).toBeLessThan(0.1);
    await page.keyboard.press('Control+z');
    await expect(counts).toHaveText(new RegExp(`/ total ${n}$`));
    expect(storedSegments(project)[0]).toMatchObject({ start: first.start, end: first.end });

    // Labelled, then split with the button: both halves keep the label and are flagged.
    await selectSegment(0);
    await page.keyboard.press('2'); // happy
    await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
    const box1 = (await current.boundingBox())!;
    await page.mouse.click(box1.x + box1.width * 0.4, box1.y + box1.height * 0.8);
    await page.getByRole('toolbar', { name: 'Segments' }).getByRole('button', { name: 'Split' }).click();
    await expect(counts).toHaveText(new RegExp(`/ total ${n + 1}$`));
    segs = storedSegments(project);
    expect(segs.slice(0, 2).map((s) => [s.label, s.review])).toEqual([
      ['happy', 1],
      ['happy', 1],
    ]);
    await expect(page.getByTestId('needs-review')).toBeVisible();
    await snap(page, 'segments-split-flagged');

    // ---- Merge: key M, undone; then the button (the halves agree, the flag stays from the split) ----
    await page.keyboard.press('m');
    await expect(counts).toHaveText(new RegExp(`/ total ${n}$`));
    expect(storedSegments(project)[0]).toMatchObject({ start: first.start, end: first.end, label: 'happy' });
    await page.keyboard.press('Control+z');
    await expect(counts).toHaveText(new RegExp(`/ total ${n + 1}$`));
    await selectSegment(0);
    await page.getByRole('toolbar', { name: 'Segments' }).getByRole('button', { name: 'Merge next' }).click();
    await expect(counts).toHaveText(new RegExp(`/ total ${n}$`));
    expect(storedSegments(project)[0]).toMatchObject({ start: first.start, end: first.end, label: 'happy', review: 1 });

    // ---- Resize: drag the end edge with the mouse, undone; then nudge with the keys ----
    await selectSegment(1);
    selectedId = await idOfOption(1);
    const before = selected();
    const handle = current.locator('[part~="region-handle-right"]');
    const hb = (await handle.boundingBox())!;
    const pxPerS = (await current.boundingBox())!.width / (before.end - before.start);
    await page.mouse.move(hb.x + hb.width / 2, hb.y + hb.height / 2);
    await page.mouse.down();
    await page.mouse.move(hb.x + hb.width / 2 - pxPerS * 0.3, hb.y + hb.height / 2, { steps: 8 });
    await page.mouse.up();
    await expect.poll(() => selected().end).toBeLessThan(before.end - 0.2);
    expect(selected().start).toBe(before.start);
    await expect(page.getByTestId('boundary')).toContainText('nudge end');
    await page.keyboard.press('Control+z');
    await expect.poll(() => selected().end).toBe(before.end);
    // Three presses of "." within the settle time are one edit of +30 ms; Shift+, moves the start 100 ms earlier.
    await expect(current).toBeVisible();
    await page.keyboard.press('.');
    await page.keyboard.press('.');
    await page.keyboard.press('.');
    await expect.poll(() => selected().end).toBeCloseTo(before.end + 0.03, 6);
    await page.keyboard.press('b');
    await expect(page.getByTestId('boundary')).toContainText('nudge start');
    await page.keyboard.press('Shift+Comma');
    await expect.poll(() => selected().start).toBeCloseTo(before.start - 0.1, 6);
    await page.keyboard.press('Control+z');
    await expect.poll(() => selected().start).toBe(before.start);
    expect(selected().end).toBeCloseTo(before.end + 0.03, 6);
    // the undo reloads the list: the selection survives it (and ] then starts from it)
    await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');

    // ---- Jumps: ] and [ move between segments; Shift+] puts the cursor at the next gap ----
    await page.keyboard.press(']');
    await expect(options.nth(2)).toHaveAttribute('aria-selected', 'true');
    await page.keyboard.press('[');
    await expect(options.nth(1)).toHaveAttribute('aria-selected', 'true');
    await expect(page.getByRole('button', { name: 'Play' })).toBeEnabled();
    await page.keyboard.press('Shift+BracketRight');
    await expect(page.getByLabel('Playback position')).toHaveText(`${selected().end.toFixed(2)} s`);

    // ---- Create by dragging across a gap, undone and redone ----
    segs = storedSegments(project);
    const k = segs.findIndex((s, i) => i > 4 && i < 15 && segs[i + 1] && segs[i + 1]!.start - s.end > 0.55);
    expect(k).toBeGreaterThan(0);
    await selectSegment(k);
    selectedId = segs[k]!.id;
    const gapStart = segs[k]!.end;
    const y = (await current.boundingBox())!.y + 40;
    await page.mouse.move(await xOf(gapStart + 0.1), y);
    await page.mouse.down();
    await page.mouse.move(await xOf(gapStart + 0.35), y, { steps: 8 });
    await page.mouse.up();
    await expect(counts).toHaveText(new RegExp(`/ total ${n + 1}$`));
    const created = storedSegments(project)[k + 1]!;
    expect(created.start).toBeCloseTo(gapStart + 0.1, 1);
    expect(created.end).toBeCloseTo(gapStart + 0.35, 1);
    await page.keyboard.press('Control+z');
    await expect(counts).toHaveText(new RegExp(`/ total ${n}$`));
    await page.keyboard.press('Control+Shift+z');
    await expect(counts).toHaveText(new RegExp(`/ total ${n + 1}$`));

    // ---- Delete with Shift+Delete, undone ----
    await selectSegment(3);
    const deleted = await idOfOption(3);
    await page.keyboard.press('Shift+Delete');
    await expect(counts).toHaveText(new RegExp(`/ total ${n}$`));
    expect(storedSegments(project).some((s) => s.id === deleted)).toBe(false);
    await page.keyboard.press('Control+z');
    await expect(counts).toHaveText(new RegExp(`/ total ${n + 1}$`));
    expect(storedSegments(project).some((s) => s.id === deleted)).toBe(true);

    // ---- Label the edited segments and two more; export; each clip's samples match its boundaries ----
    for (const i of [1, k + 1, 3, 4]) {
      await selectSegment(i);
      await page.keyboard.press('3'); // angry
    }
    await expect(page.getByTestId('save-state')).toHaveText('All changes saved');
    await snap(page, 'segments-edited-light');
    await page.setViewportSize({ width: 1024, height: 640 });
    await snap(page, 'segments-edited-1024x640');
    await page.emulateMedia({ colorScheme: 'dark' });
    await snap(page, 'segments-edited-dark-1024x640');
    await expectAccessible(page, 'segment editing (dark, 1024×640)');
    await page.emulateMedia({ colorScheme: 'light' });
    await page.setViewportSize({ width: 1440, height: 900 });

    const out = path.join(tmp, 'export');
    await page.getByRole('button', { name: 'Export…' }).click();
    const exportDialog = page.getByRole('dialog', { name: 'Export dataset' });
    await exportDialog.getByRole('textbox', { name: 'Export folder' }).fill(out);
    await exportDialog.getByRole('spinbutton', { name: 'validation share' }).fill('0');
    await exportDialog.getByRole('spinbutton', { name: 'test share' }).fill('0');
    await exportDialog.getByRole('button', { name: 'Export', exact: true }).click();
    await expect(exportDialog.getByRole('region', { name: 'Export summary' })).toContainText('5 labelled utterance(s)');
    const stored = storedSegments(project).filter((s) => s.label);
    expect(stored).toHaveLength(5);
    const rows = parseCsv(fs.readFileSync(path.join(out, 'train', 'metadata.csv'), 'utf8'));
    expect(rows).toHaveLength(5);
    for (const s of stored) {
      const row = rows.find((r) => Math.abs(Number(r.start) - s.start) < 1e-3)!;
      expect(row, `exported ${s.start}`).toBeDefined();
      expect(Math.abs(Number(row.end) - s.end)).toBeLessThan(1e-3);
      const samples = Math.round(wavDuration(path.join(out, 'train', row.file_name!)) * 16000);
      expect(
        Math.abs(samples - (Math.ceil(s.end * 16000) - Math.floor(s.start * 16000))),
        row.file_name,
      ).toBeLessThanOrEqual(1);
    }
  } finally {
    await host.stop();
  }
});
