import { afterEach, describe, expect, it } from 'vitest';
import { createHandlers, invokeOperation } from '../../src/main/api/handlers';
import type { Studio } from '../../src/main/api/studio';
import type {
  AgreementReport,
  ConsensusDetail,
  LabellingSettings,
  OperationName,
  RosterEntry,
  UtteranceRow,
} from '../../src/shared/contract';
import { copyInto, demoClips, openTempStudio, runImport, tempDir } from '../helpers/fixtures';

const open: Studio[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((s) => s.close()));
});

/** A project of 6 demo clips (labels 1-4: neutral, happy, angry, sad) and a caller of the real handlers. */
async function project() {
  const { studio, file } = openTempStudio();
  open.push(studio);
  const dir = tempDir();
  copyInto(dir, [...demoClips('spk_a', 3), ...demoClips('spk_b', 3)]);
  await runImport(studio, dir);
  const handlers = createHandlers(studio);
  const call = <T>(name: OperationName, input: unknown = {}) => invokeOperation(handlers, name, input) as Promise<T>;
  const rows = async (filter: Record<string, unknown> = {}) =>
    (await call<{ rows: UtteranceRow[] }>('listUtterances', filter)).rows;
  const ids = (await rows()).map((r) => r.id);
  const as = async (annotator: string) => call('setAnnotator', { annotator });
  /** `labels[i]` is the label id annotator gives utterance i (null: none). */
  const label = async (annotator: string, labels: (number | null)[]) => {
    await as(annotator);
    for (const [i, l] of labels.entries()) if (l !== null) await call('setLabel', { utteranceId: ids[i], labelId: l });
  };
  return { studio, file, call, rows, ids, as, label };
}

describe('several annotators per utterance', () => {
  it('roster: name clashes ignoring case are refused, roles change, a person with labels cannot be removed', async () => {
    const { call, label } = await project();
    await call('saveAnnotator', { name: 'Alice' });
    await expect(call('saveAnnotator', { name: 'alice' })).rejects.toThrow(/"Alice" is already on the roster/);
    const roster = await call<RosterEntry[]>('saveAnnotator', { name: 'Alice', role: 'adjudicator' });
    expect(roster.find((r) => r.name === 'Alice')).toMatchObject({ role: 'adjudicator', annotations: 0 });
    await call('saveAnnotator', { name: 'bob' });
    await label('bob', [1]);
    await expect(call('removeAnnotator', { name: 'bob' })).rejects.toThrow(
      /"bob" has 1 annotation\(s\) and 0 adjudication\(s\); an annotator with work in the project cannot be removed/,
    );
    const after = await call<RosterEntry[]>('removeAnnotator', { name: 'ALICE' });
    expect(after.map((r) => r.name)).toEqual(['bob']);
  });

  it('settings: K above the roster is refused; K > 1 turns blind mode on by default', async () => {
    const { call } = await project();
    await call('saveAnnotator', { name: 'a' });
    await call('saveAnnotator', { name: 'b' });
    await expect(call('setLabellingSettings', { labelsPerUtterance: 3 })).rejects.toThrow(
      /3 labels per utterance needs at least 3 annotators; the roster has 2/,
    );
    const s = await call<LabellingSettings>('setLabellingSettings', { labelsPerUtterance: 2 });
    expect(s).toEqual({
      labelsPerUtterance: 2,
      blind: true,
      blindModel: true,
      consensusRule: 'majority',
      calibrationShare: 0,
    });
    expect(await call('setLabellingSettings', { blind: false })).toMatchObject({ labelsPerUtterance: 2, blind: false });
  });

  it('consensus states, filters, blind mode and adjudication follow the rule and the roles', async () => {
    const { call, rows, ids, as, label } = await project();
    for (const n of ['a', 'b', 'c']) await call('saveAnnotator', { name: n });
    await call('saveAnnotator', { name: 'judge', role: 'adjudicator' });
    await call('setLabellingSettings', { labelsPerUtterance: 3 });
    // u0: all agree; u1: 2-1 majority; u2: three-way tie; u3: 2 labels (pending); u4: 1; u5: none
    await label('a', [1, 2, 1, 1, 3, null]);
    await label('b', [1, 2, 2, 1, null, null]);
    await label('c', [1, 3, 3, null, null, null]);

    await as('c');
    const byId = new Map((await rows()).map((r) => [r.id, r]));
    expect(ids.map((id) => byId.get(id)!.consensus.state)).toEqual([
      'agreed',
      'agreed',
      'disagreed',
      null, // blind: c has not labelled u3 ...
      null,
      null,
    ]);
    expect(byId.get(ids[3]!)!.consensus).toEqual({
      state: null,
      labels: 2,
      needed: 3,
      labelId: null,
      hidden: true,
      needsMe: true,
    });
    expect(byId.get(ids[1]!)!.consensus).toEqual({
      state: 'agreed',
      labels: 3,
      needed: 3,
      labelId: 2,
      hidden: false,
      needsMe: false,
    });
    // c's queue: what needs more labels; c sees only their own vote where they have not labelled
    expect((await rows({ consensus: 'needs_more_labels' })).map((r) => r.id)).toEqual(ids.slice(3));
    expect((await rows({ consensus: 'complete' })).map((r) => r.id)).toEqual(ids.slice(0, 3));
    const hidden = await call<ConsensusDetail>('getConsensus', { utteranceId: ids[3] });
    expect(hidden).toMatchObject({ hidden: true, labels: 2, counts: [], votes: [], labelId: null });

    // unanimity: the 2-1 item is now disagreed
    await call('setLabellingSettings', { consensusRule: 'unanimous' });
    expect((await rows({ consensus: 'disagreed' })).map((r) => r.id)).toEqual([ids[1], ids[2]]);
    await call('setLabellingSettings', { consensusRule: 'majority' });

    // only an adjudicator settles, with a reason; they see everyone's labels
    await expect(call('adjudicate', { utteranceId: ids[2], labelId: 2, reason: 'voice' })).rejects.toThrow(
      /"c" is not an adjudicator/,
    );
    await as('judge');
    const seen = await call<ConsensusDetail>('getConsensus', { utteranceId: ids[3] });
    expect(seen.votes.map((v) => [v.annotator, v.labelId])).toEqual([
      ['a', 1],
      ['b', 1],
    ]);
    await expect(call('adjudicate', { utteranceId: ids[2], labelId: 2, reason: '  ' })).rejects.toThrow(/reason/);
    const settled = await call<ConsensusDetail>('adjudicate', {
      utteranceId: ids[2],
      labelId: 3,
      reason: 'rising pitch, shouted',
    });
    expect(settled).toMatchObject({
      state: 'adjudicated',
      labelId: 3,
      adjudication: { adjudicator: 'judge', reason: 'rising pitch, shouted', labelId: 3 },
      counts: expect.arrayContaining([
        { labelId: 1, votes: 1 },
        { labelId: 2, votes: 1 },
        { labelId: 3, votes: 1 },
      ]),
    });
    expect((await rows({ consensus: 'adjudicated' })).map((r) => r.id)).toEqual([ids[2]]);
    expect((await rows({ consensus: 'disagreed' })).map((r) => r.id)).toEqual([]);
    // the adjudicator's own labels are no vote
    await call('setLabel', { utteranceId: ids[5], labelId: 4 });
    expect((await rows()).find((r) => r.id === ids[5])!.consensus.labels).toBe(0);
  });

  it('agreement report: pairwise κ, Fleiss, α, per annotator and V/A/D, with seeded bootstrap intervals', async () => {
    const { call, ids, as, label } = await project();
    await label('a', [1, 2, 3, 4, 1, 2]);
    await label('b', [1, 2, 3, 4, 2, 2]);
    await label('c', [1, 2, 3, 1, 1, null]);
    for (const [who, v] of [
      ['a', [1, 2, 3, 4, 5, 3]],
      ['b', [2, 2, 3, 4, 5, 4]],
    ] as const) {
      await as(who);
      for (const [i, valence] of v.entries())
        await call('setDimensions', { utteranceId: ids[i], valence, arousal: null, dominance: null, note: '' });
    }
    const report = await call<AgreementReport>('getAgreement', { bootstrap: 200, seed: 5 });
    expect(report.annotators).toEqual(['a', 'b', 'c']);
    expect(report.items).toBe(6);
    expect(report.pairableItems).toBe(6);
    const ab = report.categorical.pairwise.find((p) => p.a === 'a' && p.b === 'b')!;
    expect(ab.n).toBe(6);
    // a vs b: 5 of 6 agree; marginals a: 1×2, 2×2, 3, 4; b: 1, 2×3, 3, 4 → p_e = (2+6+1+1)/36
    expect(ab.kappa).toBeCloseTo((5 / 6 - 10 / 36) / (1 - 10 / 36), 10);
    expect(ab.ci!.low).toBeLessThanOrEqual(ab.kappa!);
    expect(report.categorical.krippendorffAlpha.value).toBeGreaterThan(0.5);
    expect(report.categorical.krippendorffAlpha.ci).not.toBeNull();
    expect(report.categorical.fleissKappa.value).not.toBeNull();
    expect(report.categorical.perAnnotator.map((p) => p.annotator)).toEqual(['a', 'b', 'c']);
    expect(report.categorical.confusedPairs[0]).toEqual({ a: 'neutral', b: 'happy', count: expect.any(Number) });
    expect(report.dimensions.valence.alphaInterval.value).toBeGreaterThan(0.8);
    expect(report.dimensions.valence.ccc.find((c) => c.annotator === 'a')!.n).toBe(6);
    expect(report.dimensions.arousal.alphaInterval.value).toBeNull();
    expect(report.warnings).toEqual([]);
    // seeded: the same request gives the same intervals
    expect(await call('getAgreement', { bootstrap: 200, seed: 5 })).toEqual(report);
  });

  it('agreement on fewer than 2 annotators or without overlap says so', async () => {
    const { call, label } = await project();
    expect((await call<AgreementReport>('getAgreement', { bootstrap: 0 })).warnings).toEqual([
      'Agreement needs at least 2 annotators; nobody has labelled',
    ]);
    await label('a', [1, 2, null, null]);
    await label('b', [null, null, 3, 4]);
    const report = await call<AgreementReport>('getAgreement', { bootstrap: 0 });
    expect(report.warnings).toEqual(['No utterance has labels from 2 annotators: no overlap to measure']);
    expect(report.categorical.krippendorffAlpha.value).toBeNull();
    expect(report.categorical.pairwise[0]).toMatchObject({ a: 'a', b: 'b', kappa: null, n: 0 });
  });
});

describe('blind mode and the model', () => {
  it('hides the prediction from an annotator who has not labelled, and refuses accepting it unseen', async () => {
    const { studio, call, rows, ids, as } = await project();
    await call('saveAnnotator', { name: 'a' });
    await call('saveAnnotator', { name: 'b' });
    await call('setLabellingSettings', { labelsPerUtterance: 2 });
    // a prediction of a model known to the project, written as the prediction service stores it
    const db = studio.store.db;
    db.prepare(
      `INSERT INTO models (location, name, version, checksum, labels, added_at) VALUES ('/m', 'm', '1', 'c', '["neutral","happy","angry","sad"]', 'now')`,
    ).run();
    db.prepare(
      `INSERT INTO predictions (utterance_id, model_id, probabilities, predicted_label, confidence, entropy,
         text_gate, text_used, windows, created_at)
       VALUES (?, 1, '[0.1,0.7,0.1,0.1]', 'happy', 0.7, 0.5, 0.2, 1, 1, 'now')`,
    ).run(ids[0]);
    studio.store.activeModelId = 1;
    await as('a');
    expect((await rows())[0]!.prediction).toBeNull();
    expect(await call('getPrediction', { utteranceId: ids[0] })).toBeNull();
    await expect(call('acceptPrediction', { utteranceId: ids[0] })).rejects.toThrow(/Blind mode hides the prediction/);
    await call('setLabel', { utteranceId: ids[0], labelId: 2 });
    expect((await rows())[0]!.prediction).toMatchObject({ label: 'happy' });
    await call('setLabellingSettings', { blindModel: false });
    await as('b');
    expect((await rows())[0]!.prediction).toMatchObject({ label: 'happy' });
    expect((await rows())[0]!.consensus).toMatchObject({ hidden: true, labels: 1, state: null });
  });
});

describe('events', () => {
  it('roster and settings changes announce labellingChanged; an adjudication announces the row', async () => {
    const { studio, call, ids, label } = await project();
    const seen: [string, unknown][] = [];
    studio.subscribe((event, payload) => seen.push([event, payload]));
    await call('saveAnnotator', { name: 'judge', role: 'adjudicator' });
    await label('a', [1]);
    await label('b', [2]);
    await call('setLabellingSettings', { labelsPerUtterance: 2 });
    await call('setAnnotator', { annotator: 'judge' });
    seen.length = 0;
    await call('adjudicate', { utteranceId: ids[0], labelId: 2, reason: 'tone' });
    expect(seen).toEqual([
      [
        'annotationChanged',
        {
          row: expect.objectContaining({
            id: ids[0],
            consensus: expect.objectContaining({ state: 'adjudicated', labelId: 2 }),
          }),
        },
      ],
    ]);
    seen.length = 0;
    await call('setLabellingSettings', { consensusRule: 'unanimous' });
    expect(seen).toEqual([
      [
        'labellingChanged',
        {
          settings: {
            labelsPerUtterance: 2,
            blind: true,
            blindModel: true,
            consensusRule: 'unanimous',
            calibrationShare: 0,
          },
          roster: expect.arrayContaining([expect.objectContaining({ name: 'judge', role: 'adjudicator' })]),
        },
      ],
    ]);
  });
});
