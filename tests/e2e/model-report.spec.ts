import { XMLParser, XMLValidator } from 'fast-xml-parser';
import fs from 'node:fs';
import path from 'node:path';
import { expect, expectAccessible, openStudio, REPO_ROOT, snap, test } from './fixtures';

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
  await expect(dialog.getByTestId('confusion')).toHaveCount(0);
  await expect(dialog.getByRole('definition')).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Close' }).click();

  // Run the demo model over the project.
  await banner.getByRole('button', { name: 'Run model…' }).click();
  const run = page.getByRole('dialog', { name: 'Run model' });
  await run.getByRole('button', { name: 'Run model', exact: true }).click();
  await expect(run.getByRole('region', { name: 'Model run report' })).toBeVisible({ timeout: 60_000 });
  await run.getByRole('button', { name: 'Done' }).click();

  // Label 24 utterances: accept the model's label (Enter) three times in four, say "neutral" (1) the fourth.
  const label = async (from: number, to: number) => {
    await list.locator(`[aria-posinset="${from + 1}"]`).click();
    for (let i = from; i < to; i++) {
      await page.keyboard.press(i % 4 === 3 ? '1' : 'Enter');
      // (the list is virtual: rows are found by their position in the whole list)
      await expect(list.locator(`[aria-posinset="${i + 2}"]`)).toHaveAttribute('aria-selected', 'true');
    }
    await expect(status.getByTestId('save-state')).toHaveText('All changes saved');
  };
  await label(0, 6);

  // Too few (6 of the 20 needed): the report says so, and shows counts but no metric, rate or diagram.
  await banner.getByRole('button', { name: 'Model report' }).click();
  dialog = page.getByRole('dialog', { name: 'Model report' });
  await expect(dialog.getByTestId('report-message')).toHaveText(
    'Only 6 labelled utterance(s) have a prediction from this model: at least 20 are needed for meaningful numbers.',
  );
  await expect(dialog.getByTestId('reliability-message')).toContainText('they need at least 20');
  await expect(dialog.getByTestId('reliability')).toHaveCount(0);
  await expect(dialog.getByRole('definition')).toHaveCount(0);
  const perClass = dialog.getByRole('table', { name: 'Per class' });
  await expect(perClass.getByRole('row')).toHaveCount(5);
  for (const row of await perClass
    .getByRole('row')
    .all()
    .then((rows) => rows.slice(1)))
    await expect(row.getByRole('cell').first()).toHaveText('fewer than 20 items in all');
  await snap(page, 'model-report-too-few');
  await dialog.getByRole('button', { name: 'Close' }).click();

  await label(6, 24);
  await expect(status.getByTestId('labelled-count')).toHaveText('labelled 24 / total 36');

  // The report: metric tiles, the confusion heatmap, the reliability diagram (ECharts, as SVG).
  await banner.getByRole('button', { name: 'Model report' }).click();
  dialog = page.getByRole('dialog', { name: 'Model report' });
  await expect(dialog.getByRole('definition').first()).toHaveText(/^\d+\.\d %$/);
  await expect(dialog.getByText('24 labelled utterance(s) with a prediction')).toBeVisible();
  const confusion = dialog.getByTestId('confusion');
  await expect(confusion.locator('svg')).toBeVisible();
  await expect(dialog.getByTestId('reliability').locator('svg')).toBeVisible();
  // The heatmap's table (for the keyboard and screen readers): a button per cell, closed until asked for.
  const shot = await snap(page, 'model-report');
  // The README's copy is refreshed on request only (UPDATE_DOCS_SCREENSHOTS=1), so a run leaves the tree clean.
  if (process.env.UPDATE_DOCS_SCREENSHOTS)
    fs.copyFileSync(shot, path.join(REPO_ROOT, 'docs', 'screenshots', 'model-report.png'));
  const confusionPanel = dialog.getByRole('region', { name: 'Confusion' });
  const table = confusionPanel.getByRole('table');
  await expect(table).toBeHidden();
  await confusionPanel.getByText('Table', { exact: true }).click();
  await expect(table.getByRole('button')).toHaveCount(16);
  const cells = await table.getByRole('button').evaluateAll((els) => els.map((e) => Number(e.textContent) || 0));
  expect(cells.reduce((a, b) => a + b, 0)).toBe(24);
  const classNames = (await table.getByRole('columnheader').allTextContents()).slice(1);
  expect(classNames).toHaveLength(4);
  await snap(page, 'model-report-table');
  await expectAccessible(page, 'model report with the confusion table open');

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
      const textOf = (n: XmlNode): string =>
        (n[Object.keys(n).find((k) => k !== ':@')!] as XmlNode[])
          .map((c) => ('#text' in c ? String(c['#text']) : 'tspan' in c ? textOf(c) : ''))
          .join('');
      const attrs = (n: XmlNode) => (n[':@'] ?? {}) as Record<string, string>;
      return [
        chart,
        {
          error: valid === true ? null : JSON.stringify(valid),
          root: Object.keys(doc.find((n) => 'svg' in n) ?? {})[0],
          title: textOf(named('title')[0]!),
          texts: named('text').map(textOf),
          shapes: named('path').length + named('rect').length,
          dashed: named('path').filter((p) => attrs(p)['@_stroke-dasharray']).length,
        },
      ];
    }),
  );
  expect(parsed.confusion).toMatchObject({ error: null, root: 'svg' });
  expect(parsed.confusion!.title).toMatch(/^Confusion \(counts\): rows human label, columns model · wavfusion-demo /);
  // Each class name twice (column and row), each cell's count once.
  const texts = parsed.confusion!.texts;
  for (const c of classNames)
    expect(
      texts.filter((t) => t === c),
      c,
    ).toHaveLength(2);
  expect(
    texts
      .filter((t) => /^\d+$/.test(t))
      .map(Number)
      .sort((a, b) => a - b),
  ).toEqual([...cells].sort((a, b) => a - b));
  expect(parsed.confusion!.shapes).toBeGreaterThanOrEqual(1 + 16);
  expect(parsed.reliability).toMatchObject({ error: null, root: 'svg' });
  expect(parsed.reliability!.title).toMatch(/^Reliability: .* \(ECE \d\.\d{3}\) · wavfusion-demo /);
  // The dashed ideal line, its legend, and the ten bins' upper edges on the axis.
  expect(parsed.reliability!.dashed).toBeGreaterThanOrEqual(1);
  const edges = ['0.1', '0.2', '0.3', '0.4', '0.5', '0.6', '0.7', '0.8', '0.9', '1.0'];
  for (const e of edges) expect(parsed.reliability!.texts.join('\n')).toContain(e);
  for (const l of ['Share correct', 'Mean confidence', 'Ideal']) expect(parsed.reliability!.texts).toContain(l);
  // What the saved file looks like, for review.
  const viewer = await page.context().newPage();
  await viewer.setContent(`<body style="margin:0">${saved.confusion}${saved.reliability}</body>`);
  await snap(viewer, 'model-report-saved-svg');
  await viewer.close();
  await dialog.getByRole('button', { name: 'Row %' }).click();
  await expect(table.getByRole('button').first()).toContainText(/%|—/);
  await dialog.getByRole('button', { name: 'Counts' }).click();

  // Clicking the fullest diagonal cell of the heatmap lists exactly those utterances. The cell is
  // where its column's name (above the chart) and its row's name (left of it) meet.
  const best = cells.reduce((bi, v, i) => (i % 5 === 0 && v > cells[bi]! ? i : bi), 0);
  const name = classNames[best / 5]!;
  const labels = await confusion
    .locator('svg text')
    .evaluateAll((els, n) => els.filter((e) => e.textContent === n).map((e) => e.getBoundingClientRect()), name)
    .then((boxes) => boxes.map((b) => ({ x: b.x + b.width / 2, y: b.y + b.height / 2 })));
  expect(labels).toHaveLength(2);
  const column = labels.reduce((a, b) => (a.y < b.y ? a : b));
  const row = labels.reduce((a, b) => (a.x < b.x ? a : b));
  await page.mouse.click(column.x, row.y);
  await expect(dialog).toBeHidden();
  const expectFiltered = async () => {
    await expect(page.getByTestId('predicted-filter')).toContainText(`Model said ${name}`);
    await expect(page.getByText(`${cells[best]} of 36 utterances`)).toBeVisible();
    const shown = await options.evaluateAll((els) =>
      els.map((e) => [e.getAttribute('data-label'), e.getAttribute('data-predicted')]),
    );
    expect(shown).toHaveLength(cells[best]!);
    for (const [human, predicted] of shown) expect([human, predicted]).toEqual([name, name]);
    await page.getByRole('button', { name: 'Clear filters' }).click();
    await expect(page.getByText('36 utterances', { exact: true })).toBeVisible();
  };
  await expectFiltered();

  // The same from the keyboard: the table's button for that cell.
  await banner.getByRole('button', { name: 'Model report' }).click();
  dialog = page.getByRole('dialog', { name: 'Model report' });
  await dialog.getByRole('region', { name: 'Confusion' }).getByText('Table', { exact: true }).click();
  const button = dialog
    .getByRole('region', { name: 'Confusion' })
    .getByRole('button', { name: `${cells[best]} utterance(s) labelled ${name}, predicted ${name}` });
  await button.focus();
  await page.keyboard.press('Enter');
  await expect(dialog).toBeHidden();
  await expectFiltered();

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
