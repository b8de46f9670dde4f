import { XMLParser, XMLValidator } from 'fast-xml-parser';
import fs from 'node:fs';
import { expect, openStudio, snap, test } from './fixtures';

type XmlNode = Record<string, unknown>;

test('model report: metrics, confusion heatmap that filters the list, reliability, bulk accept and one undo', async ({
  page,
  host,
}) => {
  test.setTimeout(120_000);
  await openStudio(page, host);
  const list = page.getByRole('listbox', { name: 'Utterances' });
  const options = list.getByRole('option');
  const status = page.getByRole('contentinfo');
  const banner = page.getByRole('banner');

  // Too early: no labels yet, and the report says so instead of numbers.
  await banner.getByRole('button', { name: 'Model report' }).click();
  let dialog = page.getByRole('dialog', { name: 'Model report' });
  await expect(dialog.getByTestId('report-message')).toContainText('No human labels to compare with');
  await dialog.getByRole('button', { name: 'Close' }).click();

  // Run the demo model over the project.
  await banner.getByRole('button', { name: 'Run model…' }).click();
  const run = page.getByRole('dialog', { name: 'Run model' });
  await run.getByRole('button', { name: 'Run model', exact: true }).click();
  await expect(run.getByRole('region', { name: 'Model run report' })).toBeVisible({ timeout: 60_000 });
  await run.getByRole('button', { name: 'Done' }).click();

  // Label 24 utterances: accept the model's label (Enter) three times in four, say "neutral" (1) the fourth.
  await options.first().click();
  for (let i = 0; i < 24; i++) {
    await page.keyboard.press(i % 4 === 3 ? '1' : 'Enter');
    // (the list is virtual: rows are found by their position in the whole list)
    await expect(list.locator(`[aria-posinset="${i + 2}"]`)).toHaveAttribute('aria-selected', 'true');
  }
  await expect(status.getByTestId('save-state')).toHaveText('All changes saved');
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 24 / total 36');

  // The report: metric tiles, the confusion heatmap, the reliability diagram.
  await banner.getByRole('button', { name: 'Model report' }).click();
  dialog = page.getByRole('dialog', { name: 'Model report' });
  await expect(dialog.getByRole('definition').first()).toHaveText(/^\d+\.\d %$/);
  await expect(dialog.getByText('24 labelled utterance(s) with a prediction')).toBeVisible();
  const confusion = dialog.getByTestId('confusion');
  await expect(confusion.getByRole('button')).toHaveCount(16);
  await expect(dialog.getByTestId('reliability')).toBeVisible();
  const cells = await confusion.getByRole('button').evaluateAll((els) => els.map((e) => Number(e.textContent) || 0));
  expect(cells.reduce((a, b) => a + b, 0)).toBe(24);
  await snap(page, 'model-report');

  // Both charts save as SVG, as drawn: every heatmap cell's count and every class name, well-formed XML.
  const saved: Record<string, string> = {};
  for (const [chart, name] of [
    ['confusion', 'Save the confusion matrix as SVG'],
    ['reliability', 'Save the reliability diagram as SVG'],
  ] as const) {
    const [download] = await Promise.all([page.waitForEvent('download'), dialog.getByRole('button', { name }).click()]);
    expect(download.suggestedFilename()).toMatch(new RegExp(`^${chart}-wavfusion-demo-[\\w.-]+\\.svg$`));
    saved[chart] = fs.readFileSync((await download.path())!, 'utf8');
  }
  // Read back by a real XML parser (well-formedness with line numbers), not by the code that wrote it.
  const parsed = Object.fromEntries(
    Object.entries(saved).map(([chart, svg]) => {
      const valid = XMLValidator.validate(svg);
      const doc = new XMLParser({
        ignoreAttributes: false,
        preserveOrder: true,
        trimValues: false,
        parseTagValue: false,
      }).parse(svg) as XmlNode[];
      const all: XmlNode[] = [];
      const walk = (nodes: XmlNode[]) => {
        for (const n of nodes) {
          all.push(n);
          const children = Object.entries(n).find(([k]) => k !== ':@' && k !== '#text')?.[1];
          if (Array.isArray(children)) walk(children as XmlNode[]);
        }
      };
      walk(doc);
      const named = (tag: string) => all.filter((n) => tag in n);
      const textOf = (n: XmlNode) =>
        ((n[Object.keys(n).find((k) => k !== ':@')!] as XmlNode[])[0]?.['#text'] ?? '') as string;
      return [
        chart,
        {
          error: valid === true ? null : JSON.stringify(valid),
          root: Object.keys(doc[0] ?? {})[0],
          title: textOf(named('title')[0]!),
          texts: named('text').map((t) => String(textOf(t))),
          rects: named('rect').length,
          dashed: named('line').filter((l) => (l[':@'] as Record<string, string>)['@_stroke-dasharray']).length,
        },
      ];
    }),
  );
  const classNames = await confusion.locator('.col-head').allTextContents();
  expect(parsed.confusion).toMatchObject({ error: null, root: 'svg' });
  expect(parsed.confusion!.title).toMatch(/^Confusion \(counts\): rows human label, columns model · wavfusion-demo /);
  expect(parsed.confusion!.texts).toEqual([
    ...classNames,
    ...classNames.flatMap((c, i) => [c, ...cells.slice(i * 4, i * 4 + 4).map(String)]),
  ]);
  expect(parsed.confusion!.rects).toBeGreaterThanOrEqual(1 + 16);
  expect(parsed.reliability).toMatchObject({ error: null, root: 'svg' });
  // Ten bins, each with its dashed ideal line and its tick.
  expect(parsed.reliability!.dashed).toBe(10);
  expect(parsed.reliability!.texts.slice(0, 2)).toEqual(['0.1', expect.any(String)]);
  // What the saved file looks like, for review.
  const viewer = await page.context().newPage();
  await viewer.setContent(`<body style="margin:0">${saved.confusion}${saved.reliability}</body>`);
  await snap(viewer, 'model-report-saved-svg');
  await viewer.close();
  await dialog.getByRole('button', { name: 'Row %' }).click();
  await expect(confusion.getByRole('button').first()).toContainText('%');
  await dialog.getByRole('button', { name: 'Counts' }).click();

  // Clicking the fullest diagonal cell lists exactly those utterances.
  const best = cells.reduce((bi, v, i) => (i % 5 === 0 && v > cells[bi]! ? i : bi), 0);
  const cell = confusion.getByRole('button').nth(best);
  const label = (await cell.getAttribute('aria-label'))!.match(/predicted (\w+)/)![1]!;
  await cell.click();
  await expect(dialog).toBeHidden();
  await expect(page.getByTestId('predicted-filter')).toContainText(`Model said ${label}`);
  await expect(page.getByText(`${cells[best]} of 36 utterances`)).toBeVisible();
  const shown = await options.evaluateAll((els) =>
    els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-predicted')]),
  );
  expect(shown).toHaveLength(cells[best]!);
  for (const [human, predicted] of shown) expect([human, predicted]).toEqual([label, label]);
  await page.getByRole('button', { name: 'Clear filters' }).click();
  await expect(page.getByText('36 utterances', { exact: true })).toBeVisible();

  // Bulk accept everything at or above 0.3 in the whole list: preview, accept, then one undo.
  await banner.getByRole('button', { name: 'Model report' }).click();
  dialog = page.getByRole('dialog', { name: 'Model report' });
  await dialog.getByRole('spinbutton', { name: 'Bulk accept threshold' }).fill('0.3');
  await dialog.getByRole('spinbutton', { name: 'Bulk accept threshold' }).press('Tab');
  await dialog.getByRole('button', { name: 'Preview' }).click();
  const preview = dialog.getByTestId('bulk-preview');
  await expect(preview).toContainText('prediction(s) would become your labels');
  await expect(preview).toContainText('24 already labelled');
  const count = Number(await preview.locator('strong').first().textContent());
  expect(count).toBeGreaterThan(0);
  await snap(page, 'model-report-bulk-preview');
  await dialog.getByRole('button', { name: `Accept ${count} prediction(s)` }).click();
  await expect(dialog.getByRole('status')).toContainText(`Accepted ${count} prediction(s)`);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(status.getByTestId('labelled-count')).toHaveText(`labelled ${24 + count} / total 36`);
  await page.keyboard.press('Control+z');
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 24 / total 36');
});
