import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import { makeLongSpeech, SENTENCES } from '../helpers/long-speech';
import { expect, snap, startHost, test, expectAccessible } from './fixtures';

/** What the core stored: each utterance with its transcript and its labels as "origin:annotator=label". */
function stored(file: string): { file: string; start: number; end: number; text: string; labels: string[] }[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare(
        `SELECT u.id, r.file_name AS file, u.start_s AS start, u.end_s AS "end", u.transcript AS text
           FROM utterances u JOIN recordings r ON r.id = u.recording_id
          WHERE u.removed_at IS NULL ORDER BY r.file_name, u.start_s`,
      )
      .all() as { id: number; file: string; start: number; end: number; text: string }[];
    const labels = db
      .prepare(
        `SELECT a.utterance_id AS id, a.origin || ':' || a.annotator || '=' || l.name AS label
           FROM annotations a JOIN labels l ON l.id = a.label_id ORDER BY a.origin, a.annotator`,
      )
      .all() as { id: number; label: string }[];
    return rows.map(({ id, ...u }) => ({ ...u, labels: labels.filter((l) => l.id === id).map((l) => l.label) }));
  } finally {
    db.close();
  }
}

function storedPredictions(file: string): { model: string; version: string; label: string; confidence: number }[] {
  const db = new Database(file, { readonly: true, fileMustExist: true });
  try {
    return db
      .prepare(
        `SELECT m.name AS model, m.version, p.predicted_label AS label, p.confidence
           FROM predictions p JOIN models m ON m.id = p.model_id ORDER BY p.utterance_id`,
      )
      .all() as { model: string; version: string; label: string; confidence: number }[];
  } finally {
    db.close();
  }
}

/** A Praat short-format TextGrid: interval tiers that tile [0, duration] (gaps are empty intervals). */
function shortTextGrid(
  duration: number,
  tiers: { name: string; spans: { start: number; end: number; text: string }[] }[],
) {
  const q = (s: string) => `"${s.replace(/"/g, '""')}"`;
  const lines = ['File type = "ooTextFile"', 'Object class = "TextGrid"', '', '0', String(duration), '<exists>'];
  lines.push(String(tiers.length));
  for (const tier of tiers) {
    const intervals: { start: number; end: number; text: string }[] = [];
    let at = 0;
    for (const s of tier.spans) {
      if (s.start > at) intervals.push({ start: at, end: s.start, text: '' });
      intervals.push(s);
      at = s.end;
    }
    if (at < duration) intervals.push({ start: at, end: duration, text: '' });
    lines.push(q('IntervalTier'), q(tier.name), '0', String(duration), String(intervals.length));
    for (const iv of intervals) lines.push(String(iv.start), String(iv.end), q(iv.text));
  }
  return lines.join('\n') + '\n';
}

test('the Import dialog: format, preview with tier roles, a TextGrid and a Label Studio export imported, rows in the project file', async ({
  page,
  tmp,
}) => {
  test.setTimeout(180_000);
  // Three espeak-ng sentences with known pauses (never committed audio).
  const work = path.join(tmp, 'work');
  const corpus = path.join(tmp, 'corpus');
  fs.mkdirSync(work);
  fs.mkdirSync(corpus);
  const speech = makeLongSpeech(work, { sentences: 3, seed: 3 });
  const spans = speech.speech.map((s) => ({ start: Number(s.start.toFixed(4)), end: Number(s.end.toFixed(4)) }));
  const duration = Number(speech.duration.toFixed(4));
  fs.copyFileSync(speech.file, path.join(corpus, 'talk.wav'));
  fs.copyFileSync(speech.file, path.join(corpus, 'ls.wav'));
  // "mood" is not a name the import recognises: it is ignored until the dialog gives it a role.
  const moods = ['happy', 'sad', 'angry'];
  fs.writeFileSync(
    path.join(corpus, 'talk.TextGrid'),
    shortTextGrid(duration, [
      { name: 'words', spans: spans.map((s, i) => ({ ...s, text: SENTENCES[i]! })) },
      { name: 'mood', spans: spans.map((s, i) => ({ ...s, text: moods[i]! })) },
    ]),
  );
  const region = (s: { start: number; end: number }, value: Record<string, unknown>, type: string) => ({
    from_name: type === 'labels' ? 'emotion' : 'transcription',
    to_name: 'audio',
    type,
    value: { start: s.start, end: s.end, ...value },
  });
  fs.writeFileSync(
    path.join(corpus, 'tasks.json'),
    JSON.stringify([
      {
        id: 1,
        data: { audio: '/data/local-files/?d=corpus/ls.wav' },
        annotations: [
          {
            id: 1,
            completed_by: { id: 3, email: 'alice@example.org' },
            result: [
              region(spans[0]!, { labels: ['neutral'] }, 'labels'),
              region(spans[0]!, { text: [SENTENCES[0]] }, 'textarea'),
              region(spans[1]!, { labels: ['sad'] }, 'labels'),
            ],
          },
        ],
        predictions: [
          { model_version: 'ser-7', result: [{ ...region(spans[0]!, { labels: ['neutral'] }, 'labels'), score: 0.7 }] },
        ],
      },
    ]),
  );

  const project = path.join(tmp, 'formats.sqlite');
  const host = await startHost({ project });
  try {
    await page.goto(host.url);
    await page.getByRole('button', { name: 'Import…' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Import audio' });
    const pathBox = dialog.getByRole('textbox', { name: 'Folder or manifest' });
    const formatBox = dialog.getByRole('combobox', { name: 'Format' });
    await expect(formatBox).toHaveValue('auto');

    // ---- TextGrid: recognised from the content, tiers listed with their roles ----
    await pathBox.fill(path.join(corpus, 'talk.TextGrid'));
    await dialog.getByRole('button', { name: 'Preview' }).click();
    const preview = dialog.getByRole('region', { name: 'Import preview' });
    await expect(preview.getByTestId('preview-lines')).toContainText(
      'textgrid: 1 audio file(s), 3 utterance(s), 0 unusable row(s)',
    );
    await expect(preview.getByTestId('preview-lines')).toContainText('talk.TextGrid: tier "mood" → ignored');
    const tiers = preview.getByRole('table', { name: 'Tier roles' });
    await expect(tiers.getByRole('combobox', { name: 'Role of tier words' })).toHaveValue('transcript');
    await expect(tiers.getByRole('combobox', { name: 'Role of tier mood' })).toHaveValue('');
    await tiers.getByRole('combobox', { name: 'Role of tier mood' }).selectOption('label');
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await expect(preview.getByTestId('preview-lines')).toContainText('talk.TextGrid: tier "mood" → label');
    // Nothing is written by a preview.
    expect(stored(project)).toEqual([]);

    await snap(page, 'import-preview-light');
    await expectAccessible(page, 'import preview (light)');
    await page.emulateMedia({ colorScheme: 'dark' });
    await snap(page, 'import-preview-dark');
    await expectAccessible(page, 'import preview (dark)');
    await page.emulateMedia({ colorScheme: 'light' });

    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    const report = dialog.getByRole('region', { name: 'Import report' });
    await expect(report.getByTestId('count-utterances-added')).toHaveText('3');
    const rows = stored(project);
    expect(rows.map((r) => [r.file, r.text, r.labels])).toEqual(
      spans.map((_, i) => ['talk.wav', SENTENCES[i], [`import:talk.TextGrid=${moods[i]}`]]),
    );
    rows.forEach((r, i) => {
      expect(r.start).toBeCloseTo(spans[i]!.start, 6);
      expect(r.end).toBeCloseTo(spans[i]!.end, 6);
    });

    // ---- Label Studio: named explicitly; a person's labels and a model's prediction ----
    await pathBox.fill(path.join(corpus, 'tasks.json'));
    await expect(preview).toBeHidden();
    await formatBox.selectOption('label-studio');
    await dialog.getByRole('button', { name: 'Preview' }).click();
    await expect(preview.getByTestId('preview-lines')).toContainText('label-studio: 1 audio file(s), 2 utterance(s)');
    await expect(preview.getByRole('table', { name: 'Tier roles' })).toHaveCount(0);
    await dialog.getByRole('button', { name: /^Import( again)?$/ }).click();
    await expect(report.getByTestId('count-utterances-added')).toHaveText('2');
    await snap(page, 'import-label-studio-report');
    const ls = stored(project).filter((r) => r.file === 'ls.wav');
    expect(ls.map((r) => [r.text, r.labels])).toEqual([
      [SENTENCES[0], ['human:alice@example.org=neutral']],
      ['', ['human:alice@example.org=sad']],
    ]);
    expect(storedPredictions(project)).toEqual([
      { model: 'Label Studio', version: 'ser-7', label: 'neutral', confidence: 0.7 },
    ]);

    await dialog.getByRole('button', { name: 'Done' }).click();
    await expect(page.getByTestId('labelled-count')).toContainText('total 5');
  } finally {
    await host.stop();
  }
});
