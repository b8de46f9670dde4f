import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LabellingSettings, OperationName, RosterEntry } from '../../../../shared/contract';
import { FakeClient, row, studioHandlers } from '../testing/fake-client';
import { StudioState } from './studio.svelte';
import { TeamState } from './team.svelte';

const SETTINGS: LabellingSettings = {
  labelsPerUtterance: 1,
  blind: false,
  blindModel: false,
  consensusRule: 'majority',
  calibrationShare: 0,
};
const entry = (name: string, change: Partial<RosterEntry> = {}): RosterEntry => ({
  name,
  role: 'annotator',
  annotations: 0,
  onRoster: true,
  share: 1,
  ...change,
});

describe('TeamState', () => {
  it('reads the roster and settings once, then follows labellingChanged without reading again', async () => {
    const fake = new FakeClient({
      listAnnotators: () => [entry('ana')],
      getLabellingSettings: () => SETTINGS,
    });
    const team = new TeamState(fake.client);
    const off = team.connect();
    await team.load();
    expect(team.roster.map((r) => r.name)).toEqual(['ana']);
    expect(team.settings).toEqual(SETTINGS);

    // Another window adds an adjudicator and turns blind mode on.
    fake.emit('labellingChanged', {
      roster: [entry('ana'), entry('judge', { role: 'adjudicator' })],
      settings: { ...SETTINGS, labelsPerUtterance: 2, blind: true },
    });
    expect(team.roster.map((r) => r.name)).toEqual(['ana', 'judge']);
    expect(team.roleOf('JUDGE')).toBe('adjudicator');
    expect(team.settings).toMatchObject({ labelsPerUtterance: 2, blind: true });
    expect(fake.count('listAnnotators')).toBe(1);
    expect(fake.count('getLabellingSettings')).toBe(1);
    off();
  });

  it('an action takes the core answer and reloads nothing; a refusal is returned and changes nothing', async () => {
    const fake = new FakeClient({
      listAnnotators: () => [entry('ana')],
      getLabellingSettings: () => SETTINGS,
      saveAnnotator: ({ name, role }) => [entry('ana'), entry(name, { role })],
      setAnnotatorShare: () => {
        throw new Error('the annotators’ shares add up to fewer than 2 labels per utterance');
      },
      setLabellingSettings: (change) => ({ ...SETTINGS, ...change }),
    });
    const team = new TeamState(fake.client);
    await team.load();
    expect(await team.saveAnnotator('bo', 'annotator')).toBeNull();
    expect(team.roster.map((r) => r.name)).toEqual(['ana', 'bo']);
    expect(await team.changeSettings({ blind: true })).toBeNull();
    expect(team.settings?.blind).toBe(true);
    expect(await team.setShare('bo', 0.2)).toMatch(/fewer than 2 labels/);
    expect(team.roster.find((r) => r.name === 'bo')?.share).toBe(1);
    expect(fake.count('listAnnotators')).toBe(1);
    expect(fake.count('getLabellingSettings')).toBe(1);
  });
});

describe('StudioState follows labellingChanged', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    vi.stubGlobal('window', new EventTarget());
  });
  afterEach(() => {
    vi.unstubAllGlobals();
    vi.useRealTimers();
  });

  async function connected() {
    let roster = [entry('ana')];
    let settings = SETTINGS;
    let rows = [row(1), row(2)];
    const fake = new FakeClient({
      ...studioHandlers(() => rows),
      listAnnotators: () => roster,
      getLabellingSettings: () => settings,
      setLabellingSettings: (change) => {
        settings = { ...settings, ...change };
        return settings;
      },
    });
    const studio = new StudioState(fake.client);
    const disconnect = studio.connect();
    await vi.advanceTimersByTimeAsync(1000);
    await studio.team.load();
    let seen = fake.calls.length;
    const reads = () => {
      const counts: Partial<Record<OperationName, number>> = {};
      for (const { name } of fake.calls.slice(seen)) counts[name] = (counts[name] ?? 0) + 1;
      seen = fake.calls.length;
      return counts;
    };
    const announce = () => fake.emit('labellingChanged', { roster, settings });
    return {
      fake,
      studio,
      disconnect,
      reads,
      announce,
      setRoster: (next: RosterEntry[]) => (roster = next),
      setSettings: (next: LabellingSettings) => (settings = next),
      setRows: (next: typeof rows) => (rows = next),
    };
  }

  it("another client's change (the event alone) updates the roster, the settings and the rows", async () => {
    const { studio, reads, announce, setRoster, setSettings, setRows, disconnect } = await connected();
    setRoster([entry('ana'), entry('bo', { share: 0.5 })]);
    setSettings({ ...SETTINGS, labelsPerUtterance: 2, blind: true });
    const hidden = { state: null, labels: 1, needed: 2, labelId: null, hidden: true, needsMe: true };
    setRows([row(1, { consensus: hidden }), row(2, { consensus: hidden })]);
    announce();
    await vi.advanceTimersByTimeAsync(500);
    expect(studio.team.roster.map((r) => [r.name, r.share])).toEqual([
      ['ana', 1],
      ['bo', 0.5],
    ]);
    expect(studio.team.settings).toMatchObject({ labelsPerUtterance: 2, blind: true });
    expect(studio.rows.every((r) => r.consensus.hidden)).toBe(true);
    // The rows once, the selection's prediction once; the roster and settings come with the event.
    expect(reads()).toEqual({ listUtterances: 1, getPrediction: 1 });
    disconnect();
  });

  it('one action in this window causes one reload of the list, none of the roster', async () => {
    const { studio, reads, announce, disconnect } = await connected();
    expect(await studio.team.changeSettings({ blind: true })).toBeNull();
    announce(); // the core announces the change it made
    await vi.advanceTimersByTimeAsync(500);
    expect(studio.team.settings?.blind).toBe(true);
    expect(reads()).toEqual({ setLabellingSettings: 1, listUtterances: 1, getPrediction: 1 });
    disconnect();
  });
});
