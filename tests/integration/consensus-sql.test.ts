import fs from 'node:fs';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import {
  consensusStateSql,
  itemConsensus,
  projectConsensus,
  TALLY_JOIN,
  withConsensus,
  type ConsensusFilterValue,
} from '../../src/main/agreement/consensus';
import type { Studio } from '../../src/main/api/studio';
import { assignees, isAssigned } from '../../src/main/agreement/assignment';
import { encodeWav16 } from '../../src/main/audio/wav';
import {
  AdjudicationsRepository,
  AnnotatorsRepository,
  LabellingSettingsRepository,
} from '../../src/main/db/annotators-repository';
import { seededRandom } from '../../src/main/export/split';
import { UtteranceFilter } from '../../src/shared/contract';
import { openTempStudio } from '../helpers/fixtures';

const open: Studio[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

const UTTERANCES = 40;
const FILTERS: ConsensusFilterValue[] = [
  'needs_my_label',
  'needs_more_labels',
  'complete',
  'agreed',
  'disagreed',
  'adjudicated',
];
/** People who label: on the roster or not, one spelled in another case than the roster has it. */
const PEOPLE = ['ann', 'bo', 'BO', 'cy', 'di', 'zed', 'judge'];
const ROSTER = ['ann', 'bo', 'cy', 'di', 'judge', 'eve'];
/** Who looks at the list: people on and off the roster, and someone who never labelled. */
const VIEWERS = ['ann', 'bo', 'cy', 'zed', 'judge', 'nobody'];

function project() {
  const { studio, dir } = openTempStudio();
  open.push(studio);
  const { store } = studio;
  const wav = path.join(dir, 'a.wav');
  fs.writeFileSync(wav, encodeWav16(new Float32Array(1600), 16000));
  const recordingId = store.recordings.insert({
    path: wav,
    fileName: 'a.wav',
    sizeBytes: 1,
    checksum: 'x',
    format: 'wav',
    durationS: UTTERANCES,
    sampleRate: 16000,
    channels: 1,
    peaksPerSecond: 1,
    peaks: new Float32Array(1),
  });
  for (let i = 0; i < UTTERANCES; i++)
    store.utterances.insert({ recordingId, start: i, end: i + 0.5, speaker: null, transcript: `u${i}` });
  return studio;
}

/**
 * The SQL side (the tallies the triggers keep, the state over them, the list's SQL filter and count)
 * against the JS consensus it replaces (`projectConsensus`, `itemConsensus`, `withConsensus`'s filter),
 * for every utterance and every filter as every viewer sees it.
 */
function expectSqlEqualsJs(studio: Studio, context: string) {
  const { db } = studio.store;
  const settings = new LabellingSettingsRepository(db).get();
  const { items } = projectConsensus(db);
  const sql = db
    .prepare<[], { id: number; state: string; labels: number; labelId: number | null }>(
      `SELECT u.id, ${consensusStateSql(settings)} AS state, COALESCE(c.labels, 0) AS labels,
              COALESCE(c.adjudicated_label, CASE WHEN ${consensusStateSql(settings)} = 'agreed' THEN c.top_label END) AS labelId
       FROM utterances u ${TALLY_JOIN} ORDER BY u.id`,
    )
    .all();
  const js = sql.map(({ id }) => {
    const c = items.get(id) ?? itemConsensus([], settings);
    return { id, state: c.state, labels: c.labels, labelId: c.labelId };
  });
  expect(sql, context).toEqual(js);

  for (const viewer of VIEWERS) {
    const ctx = { ...studio.store.rowContext(), annotator: viewer };
    const everything = studio.store.utterances.list(UtteranceFilter.parse({}), ctx);
    for (const consensus of FILTERS) {
      const expected = withConsensus(db, everything, viewer, consensus);
      const filter = UtteranceFilter.parse({ consensus });
      const all = studio.store.utterances.page(filter, ctx);
      const window = studio.store.utterances.page(filter, ctx, { offset: 2, limit: 5 });
      const what = `${context}, ${viewer}, ${consensus}`;
      expect(
        all.rows.map((r) => r.id),
        what,
      ).toEqual(expected.map((r) => r.id));
      expect(
        all.rows.map((r) => r.consensus),
        what,
      ).toEqual(expected.map((r) => r.consensus));
      expect(all.filtered, what).toBe(expected.length);
      expect(window.filtered, what).toBe(expected.length);
      expect(
        window.rows.map((r) => r.id),
        what,
      ).toEqual(expected.slice(2, 7).map((r) => r.id));
    }
  }
}

describe('consensus in SQL (migration 014) equals the JS consensus', () => {
  for (const seed of [1, 2, 3]) {
    it(`after random labels, adjudications, roster and settings changes (seed ${seed})`, () => {
      const studio = project();
      const { store } = studio;
      const { db } = store;
      const rnd = seededRandom(seed);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
      const labels = store.labels.list().map((l) => l.id);
      const roster = new AnnotatorsRepository(db);
      const adjudications = new AdjudicationsRepository(db);
      const settingsRepo = new LabellingSettingsRepository(db);
      const at = '2026-11-27T12:00:00Z';
      const utterance = () => 1 + Math.floor(rnd() * UTTERANCES);
      for (const name of ['ann', 'bo', 'cy']) roster.ensure(name, at);
      settingsRepo.set({ ...settingsRepo.get(), labelsPerUtterance: 2 });
      const empty = { labelId: null, valence: null, arousal: null, dominance: null, note: '' };
      const ops: (() => string)[] = [
        // labels, dominant so that utterances gather several votes
        ...Array<() => string>(8).fill(() => {
          const [u, who, label] = [utterance(), pick(PEOPLE), pick(labels.slice(0, 3))];
          store.annotations.put(u, 'human', who, { ...empty, labelId: label }, at);
          return `label ${u} ${who} ${label}`;
        }),
        () => {
          const [u, who] = [utterance(), pick(PEOPLE)];
          store.annotations.put(u, 'human', who, null, at);
          return `unlabel ${u} ${who}`;
        },
        () => {
          // an annotation without a label (a note and a valence): not a vote
          const [u, who] = [utterance(), pick(PEOPLE)];
          store.annotations.put(u, 'human', who, { ...empty, valence: 3, note: 'hm' }, at);
          return `note ${u} ${who}`;
        },
        () => {
          const u = utterance();
          store.annotations.put(u, 'import', 'corpus', { ...empty, labelId: pick(labels) }, at);
          return `import ${u}`;
        },
        () => {
          const u = utterance();
          adjudications.add({ utteranceId: u, labelId: pick(labels), adjudicator: 'judge', reason: 'r', at });
          return `adjudicate ${u}`;
        },
        () => {
          // a label changed in place by another writer (a merge of two labels)
          const [from, to] = [pick(labels), pick(labels)];
          db.prepare(`UPDATE annotations SET label_id = ? WHERE label_id = ? AND origin = 'human'`).run(to, from);
          return `relabel ${from} -> ${to}`;
        },
        () => {
          // an annotation moved to another utterance (OR IGNORE: the policy of the statement firing the triggers)
          const [u, v] = [utterance(), utterance()];
          db.prepare(
            `UPDATE OR IGNORE annotations SET utterance_id = ? WHERE utterance_id = ? AND origin = 'human'`,
          ).run(v, u);
          return `move ${u} -> ${v}`;
        },
        () => {
          const who = pick(ROSTER);
          roster.ensure(who, at);
          return `ensure ${who}`;
        },
        () => {
          const who = pick(ROSTER);
          if (!roster.byName(who)) roster.insert(who, 'adjudicator', at);
          else roster.setRole(who, roster.role(who) === 'adjudicator' ? 'annotator' : 'adjudicator');
          return `role ${who}`;
        },
        () => {
          const who = pick(ROSTER);
          roster.delete(who);
          return `remove ${who}`;
        },
        () => {
          const who = pick(ROSTER);
          const share = pick([0.3, 0.5, 0.8, 1]);
          roster.setShare(who, share);
          return `share ${who} ${share}`;
        },
        () => {
          const s = settingsRepo.get();
          const next = {
            ...s,
            labelsPerUtterance: pick([1, 2, 3, 4]),
            consensusRule: pick(['majority', 'unanimous'] as const),
            calibrationShare: pick([0, 0, 0.25]),
            blind: rnd() < 0.5,
          };
          settingsRepo.set(next);
          return `settings K=${next.labelsPerUtterance} ${next.consensusRule} cal=${next.calibrationShare} blind=${next.blind}`;
        },
      ];
      const done: string[] = [];
      for (let step = 1; step <= 300; step++) {
        done.push(store.transaction(pick(ops)));
        if (step % 20 === 0) expectSqlEqualsJs(studio, `seed ${seed}, step ${step}: ${done.slice(-20).join('; ')}`);
      }
    });
  }
});

describe('isAssigned', () => {
  it('says whether a name is among assignees(), for random pools, K and calibration shares', () => {
    const rnd = seededRandom(7);
    for (let trial = 0; trial < 300; trial++) {
      const pool = ['ann', 'bo', 'cy', 'di', 'ed']
        .filter(() => rnd() < 0.8)
        .map((name) => ({ name, share: rnd() < 0.3 ? 1 : Math.round(rnd() * 10) / 10 || 0.1 }));
      const k = 1 + Math.floor(rnd() * 4);
      const calibration = rnd() < 0.3 ? 0.2 : 0;
      for (let id = 1; id <= 30; id++)
        for (const name of ['ann', 'bo', 'cy', 'di', 'ed', 'zed'])
          expect(isAssigned(id, name, pool, k, calibration), `${JSON.stringify(pool)} K=${k} ${id} ${name}`).toBe(
            assignees(id, pool, k, calibration).includes(name),
          );
    }
  });
});
