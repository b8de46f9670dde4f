import fs from 'node:fs';
import path from 'node:path';
import {
  DEMO_CORPUS,
  expect,
  expectAccessible,
  REPO_ROOT,
  snap,
  startHost,
  test,
  wavDuration,
  writeLongWav,
} from './fixtures';

/**
 * The IEMOCAP fixture session (tests/fixtures/formats/iemocap) with real speech: the first dialog as
 * one 25 s dialog WAV, the second as sentence WAVs (one per utterance).
 */
function iemocapRelease(tmp: string): { root: string; sentences: number[] } {
  const root = path.join(tmp, 'IEMOCAP_full_release');
  fs.cpSync(path.join(REPO_ROOT, 'tests', 'fixtures', 'formats', 'iemocap'), root, { recursive: true });
  const dialog = path.join(root, 'Session1', 'dialog');
  fs.mkdirSync(path.join(dialog, 'wav'));
  writeLongWav(path.join(DEMO_CORPUS, 'spk_a', 'spk_a_01.wav'), path.join(dialog, 'wav', 'Ses01F_impro01.wav'), 25);
  const sentences = path.join(root, 'Session1', 'sentences', 'wav', 'Ses01M_script01_1');
  fs.mkdirSync(sentences, { recursive: true });
  const files = [
    ['spk_b/spk_b_03.wav', 'Ses01M_script01_1_F000.wav'],
    ['spk_c/spk_c_07.wav', 'Ses01M_script01_1_M000.wav'],
  ];
  for (const [from, to] of files) fs.copyFileSync(path.join(DEMO_CORPUS, from!), path.join(sentences, to!));
  return { root, sentences: files.map(([, to]) => wavDuration(path.join(sentences, to!))) };
}

test('the Import dialog reads an IEMOCAP release: recognised, 4-class mapping, rows, labels, speakers, evaluators’ V/A/D', async ({
  page,
  tmp,
}) => {
  test.setTimeout(120_000);
  const { root, sentences } = iemocapRelease(tmp);
  const host = await startHost({ project: path.join(tmp, 'iemocap.sqlite') });
  try {
    await page.goto(host.url);
    await page.getByRole('button', { name: 'Import…' }).first().click();
    const dialog = page.getByRole('dialog', { name: 'Import audio' });
    await dialog.getByRole('textbox', { name: 'Folder or manifest' }).fill(root);
    await expect(dialog.getByRole('combobox', { name: 'Format' })).toHaveValue('auto');

    // Recognised from the content; the IEMOCAP choices appear with the preview, all 10 categories first.
    await dialog.getByRole('button', { name: 'Preview' }).click();
    const preview = dialog.getByRole('region', { name: 'Import preview' });
    const lines = preview.getByTestId('preview-lines');
    await expect(lines).toContainText('iemocap: 3 audio file(s), 7 utterance(s), 4 unusable row(s)');
    await expect(lines).toContainText('IEMOCAP categories (all 10): neu→neutral, hap→happy, exc→excited');
    const categories = dialog.getByRole('group', { name: 'IEMOCAP categories' });
    await expect(categories.getByRole('radio', { name: 'All 10 categories, by name' })).toBeChecked();

    // 4 classes, the others left out: the preview is read again and says so.
    await categories.getByRole('radio', { name: /^4 classes \(excited → happy\); leave out/ }).check();
    await expect(lines).toContainText(
      'IEMOCAP 4-class mapping: neu→neutral, hap→happy, exc→happy, ang→angry, sad→sad; fru, sur, fea, dis, oth, xxx left out (2 utterance(s))',
    );
    await expect(lines).toContainText('iemocap: 3 audio file(s), 5 utterance(s)');
    await snap(page, 'iemocap-preview');
    await expectAccessible(page, 'IEMOCAP preview');

    await dialog.getByRole('button', { name: 'Import', exact: true }).click();
    const report = dialog.getByRole('region', { name: 'Import report' });
    await expect(report.getByTestId('count-utterances-added')).toHaveText('5', { timeout: 30_000 });
    await snap(page, 'iemocap-import-report');
    await expectAccessible(page, 'IEMOCAP import report');
    // The counts behind the dialog follow the import's event, before the dialog closes.
    await expect(page.getByTestId('labelled-count')).toHaveText(/total 5$/);
    await dialog.getByRole('button', { name: 'Done' }).click();

    // The rows: the dialog's segments, then the sentence files whole; transcripts, speakers (session +
    // gender) and the consensus as the imported label (excited → happy).
    const list = page.getByRole('listbox', { name: 'Utterances' });
    const options = list.getByRole('option');
    await expect(options).toHaveCount(5);
    const span = (a: number, b: number) => `${a.toFixed(2)}–${b.toFixed(2)} s`;
    const expected = [
      ['Ses01F_impro01.wav', 'Ses01F', span(6.2901, 8.2357), 'Excuse me.', 'neutral'],
      ['Ses01F_impro01.wav', 'Ses01F', span(14.8872, 18.0758), 'Yeah.', 'happy'],
      ['Ses01F_impro01.wav', 'Ses01F', span(23.1, 24), 'Is there a problem?', 'sad'],
      ['Ses01M_script01_1_F000.wav', 'Ses01F', span(0, sentences[0]!), 'What a lovely day.', 'happy'],
      ['Ses01M_script01_1_M000.wav', 'Ses01M', span(0, sentences[1]!), 'I miss her.', 'sad'],
    ];
    for (const [i, [file, speaker, at, text, label]] of expected.entries()) {
      await expect(options.nth(i)).toHaveAccessibleName(
        new RegExp(
          `^${[file, speaker, at, text, label].map((s) => s!.replace(/[.?]/g, '\\$&')).join(' ')}, imported label ${label}`,
        ),
      );
    }
    await expect(page.getByTestId('labelled-count')).toHaveText(/total 5$/);

    // The labels: the 4 classes only (no "excited", "frustrated", "surprised").
    const byLabel = page.getByRole('combobox', { name: 'Filter by label' });
    const labelNames = (await byLabel.getByRole('option').allTextContents()).slice(1);
    expect(labelNames.filter((n) => ['excited', 'frustrated', 'surprised', 'other'].includes(n))).toEqual([]);
    expect(labelNames).toEqual(expect.arrayContaining(['neutral', 'happy', 'sad']));

    // Speakers per session and gender; the filter finds the one male turn kept.
    const bySpeaker = page.getByRole('combobox', { name: 'Filter by speaker' });
    expect((await bySpeaker.getByRole('option').allTextContents()).slice(1)).toEqual(['Ses01F', 'Ses01M']);
    await bySpeaker.selectOption('Ses01M');
    await expect(options).toHaveCount(1);
    await expect(options.first()).toContainText('I miss her.');
    await bySpeaker.selectOption({ label: 'Any speaker' });
    await expect(options).toHaveCount(5);

    // Each evaluator is an annotator with their own category and V/A/D: E3 said neutral, val 3, act 2, dom 2.
    const field = page.getByRole('textbox', { name: 'Annotator' });
    await field.fill('iemocap-E3');
    const changed = page.waitForResponse((r) => r.url().endsWith('/api/setAnnotator') && r.ok());
    await field.press('Enter');
    await changed;
    await expect(options.nth(0)).toHaveAttribute('data-label', 'neutral');
    await expect(options.nth(1)).toHaveAttribute('data-label', 'happy'); // E3 said "Happiness" for "Yeah."
    await options.nth(0).click();
    const ratings = page.getByRole('region', { name: 'Dimensional ratings' });
    for (const [name, n] of [
      ['Valence', 3],
      ['Arousal', 2],
      ['Dominance', 2],
    ] as const)
      await expect(ratings.getByRole('radio', { name: `${name} ${n}` })).toBeChecked();
    // The roster lists the session's evaluators.
    await page.getByRole('button', { name: 'Team: annotators, agreement, adjudication' }).click();
    const team = page.getByRole('dialog', { name: 'Team: annotators, agreement, adjudication' });
    for (const name of ['iemocap-E1', 'iemocap-E2', 'iemocap-E3', 'iemocap-E4', 'iemocap-Ses01-F1'])
      await expect(team.getByRole('cell', { name: new RegExp(`^${name}`) })).toBeVisible();
    await team.getByRole('button', { name: 'Close' }).click();

    for (const scheme of ['light', 'dark'] as const) {
      await page.emulateMedia({ colorScheme: scheme });
      await snap(page, `iemocap-rows-${scheme}`);
      await expectAccessible(page, `IEMOCAP rows (${scheme})`);
    }
  } finally {
    await host.stop();
  }
});
