import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import { AdjudicationsRepository } from '../../src/main/db/annotators-repository';
import type { Studio } from '../../src/main/api/studio';
import type { UtteranceRow } from '../../src/shared/contract';
import { copyInto, demoClips, openTempStudio, runImport } from '../helpers/fixtures';

/** listUtterances pages: offset/limit over a total order, with the filtered total from the same WHERE. */
describe('listUtterances pages', () => {
  let studio: Studio;
  let dir: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let call: (name: string, input?: unknown) => Promise<any>;

  beforeAll(async () => {
    ({ studio, dir } = openTempStudio());
    copyInto(`${dir}/corpus/spk_a`, demoClips('spk_a', 2));
    expect((await runImport(studio, `${dir}/corpus`)).state).toBe('succeeded');
    const [rec] = studio.store.recordings.list();
    // Many segments on one recording, some sharing a start (the id breaks the tie).
    studio.store.transaction(() => {
      for (let i = 0; i < 500; i++)
        studio.store.utterances.insert({
          recordingId: rec!.id,
          start: Math.floor(i / 2) * 0.001,
          end: 0.5,
          speaker: null,
          transcript: i % 3 === 0 ? 'fizz' : 'buzz',
        });
    });
    call = (name, input) => invokeOperation(createHandlers(studio), name, input);
  });
  afterAll(async () => {
    await studio.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('pages cover the list exactly once, in order, and count the filtered rows', async () => {
    const all = (await call('listUtterances', {})) as { rows: UtteranceRow[]; total: number; filtered: number };
    expect(all.total).toBe(502);
    expect(all.filtered).toBe(502);
    const paged: number[] = [];
    for (let offset = 0; offset < all.filtered; offset += 64) {
      const page = await call('listUtterances', { offset, limit: 64 });
      expect(page.filtered).toBe(502);
      expect(page.offset).toBe(offset);
      paged.push(...page.rows.map((r: UtteranceRow) => r.id));
    }
    expect(paged).toEqual(all.rows.map((r) => r.id));
    const fizz = await call('listUtterances', { search: 'fizz', offset: 10, limit: 5 });
    expect(fizz.filtered).toBe(167);
    expect(fizz.total).toBe(502);
    expect(fizz.rows.map((r: UtteranceRow) => r.id)).toEqual(
      all.rows
        .filter((r) => r.transcript === 'fizz')
        .slice(10, 15)
        .map((r) => r.id),
    );
    // A consensus filter counts in SQL (migration 014): the last page is short, the total still right.
    const pending = await call('listUtterances', { consensus: 'needs_more_labels', offset: 500, limit: 10 });
    expect(pending.filtered).toBe(502);
    expect(pending.rows).toHaveLength(2);
    await expect(call('listUtterances', { limit: 0 })).rejects.toThrow(/limit/);
  });

  it('every filter’s pages, dense or sparse (read in recording order or sorted), are slices of its whole list', async () => {
    const { store } = studio;
    const labels = store.labels.list();
    const modelId = store.models.register(
      'builtin:paging',
      'paging',
      '1',
      'c',
      labels.map((l) => l.name),
    );
    const at = new Date().toISOString();
    const ids = store.utterances.count();
    store.transaction(() => {
      for (let id = 1; id <= ids; id++) {
        // every 10th utterance unpredicted; confidences 0.05 apart; a few labelled by this annotator
        if (id % 10 !== 0) {
          const confidence = (id % 20) / 20;
          store.models.putPrediction({
            utteranceId: id,
            modelId,
            probabilities: labels.map((_, i) => (i === 0 ? confidence : (1 - confidence) / (labels.length - 1))),
            predictedLabel: labels[id % labels.length]!.name,
            confidence,
            entropy: (id % 7) / 7,
            textGate: 0,
            textUsed: false,
            windows: 1,
            embedding: new Float32Array(2),
            createdAt: at,
          });
        }
        if (id % 9 === 0)
          store.annotations.put(
            id,
            'human',
            store.annotator,
            { labelId: labels[id % 2]!.id, valence: null, arousal: null, dominance: null, note: id % 4 ? '' : 'fizz' },
            at,
          );
      }
      store.activeModelId = modelId;
    });
    const filters: Record<string, unknown>[] = [
      {},
      { maxConfidence: 0.07 }, // 1 in 20 predicted: sparse
      { maxConfidence: 0.9 },
      { status: 'unlabelled' },
      { status: 'labelled' },
      { labelId: labels[1]!.id },
      { search: 'fizz' },
      { consensus: 'needs_more_labels' },
      { consensus: 'complete' },
      { sort: 'uncertainty' },
      { sort: 'uncertainty', maxConfidence: 0.5 },
    ];
    for (const filter of filters) {
      const all = (await call('listUtterances', filter)) as { rows: UtteranceRow[]; filtered: number };
      expect(all.filtered, JSON.stringify(filter)).toBe(all.rows.length);
      for (const [offset, limit] of [
        [0, 7],
        [20, 7],
        [all.filtered - 3, 7],
        [all.filtered + 1, 7],
        [150, 64],
      ] as const) {
        const page = await call('listUtterances', { ...filter, offset, limit });
        expect(page.filtered, JSON.stringify({ filter, offset })).toBe(all.filtered);
        expect(
          page.rows.map((r: UtteranceRow) => r.id),
          JSON.stringify({ filter, offset }),
        ).toEqual(all.rows.slice(offset, offset + limit).map((r) => r.id));
      }
    }
  });

  it('a page reads the votes and adjudications of its own utterances only, with the same consensus', async () => {
    const { store } = studio;
    const [first, second] = store.labels.list();
    const at = new Date().toISOString();
    store.transaction(() => {
      for (let id = 1; id <= 40; id++)
        for (const who of ['ana', 'bo'])
          store.annotations.put(
            id,
            'human',
            who,
            {
              labelId: (who === 'bo' && id % 2 ? second : first)!.id,
              valence: null,
              arousal: null,
              dominance: null,
              note: '',
            },
            at,
          );
      new AdjudicationsRepository(store.db).add({
        utteranceId: 3,
        labelId: first!.id,
        adjudicator: 'cy',
        reason: '',
        at,
      });
    });
    const everything = (await call('listUtterances', {})) as { rows: UtteranceRow[] };
    const db = store.db;
    const prepare = db.prepare.bind(db);
    const statements: string[] = [];
    (db as unknown as { prepare: (sql: string) => unknown }).prepare = (sql: string) => {
      statements.push(sql);
      return prepare(sql);
    };
    let page: { rows: UtteranceRow[] };
    try {
      page = await call('listUtterances', { offset: 0, limit: 10 });
    } finally {
      delete (db as unknown as { prepare?: unknown }).prepare;
    }
    const ids = page.rows.map((r) => r.id);
    const votes = statements.filter((sql) => sql.includes("a.origin = 'human'") && sql.includes('a.utterance_id'));
    const adjudications = statements.filter((sql) => sql.includes('FROM adjudications'));
    expect(votes.length).toBeGreaterThan(0);
    for (const sql of [...votes, ...adjudications]) expect(sql).toContain(`IN (${ids.join(', ')})`);
    expect(page.rows).toEqual(everything.rows.slice(0, 10));
    expect(page.rows.some((r) => r.consensus.state === 'adjudicated')).toBe(true);
    expect(page.rows.some((r) => r.consensus.state === 'disagreed')).toBe(true);
  });
});
