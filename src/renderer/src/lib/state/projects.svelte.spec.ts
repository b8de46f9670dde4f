import { describe, expect, it, vi } from 'vitest';
import type { ProjectInfo, RecentProject } from '../../../../shared/contract';
import { FakeClient } from '../testing/fake-client';
import { ProjectsState } from './projects.svelte';

const info = (path: string, name: string): ProjectInfo => ({
  name,
  path,
  schemaVersion: 12,
  appVersion: '0.9.0',
  counts: { recordings: 0, utterances: 0, labelled: 0, missingRecordings: 0 },
  speakers: [],
  annotator: 'ana',
  model: null,
  inference: null,
});
const recent = (path: string, name: string, exists = true): RecentProject => ({
  path,
  name,
  openedAt: '2026-11-27T10:00:00.000Z',
  exists,
});
const STUDY = recent('/home/ana/study.sqlite', 'Study');
const PILOT = recent('/home/ana/pilot.sqlite', 'Pilot');

describe('ProjectsState', () => {
  it('reads the recent list, renames (then reads it again) and forgets a project', async () => {
    let list = [STUDY, PILOT];
    const fake = new FakeClient({
      listRecentProjects: () => list,
      renameProject: ({ name }) => {
        list = [{ ...STUDY, name }, PILOT];
        return info(STUDY.path, name);
      },
      forgetRecentProject: ({ path }) => (list = list.filter((p) => p.path !== path)),
    });
    const projects = new ProjectsState(fake.client, () => Promise.resolve());
    await projects.loadRecent();
    expect(projects.recent.map((p) => p.name)).toEqual(['Study', 'Pilot']);

    // The same name (or none) asks nothing.
    await projects.rename(' Study ', 'Study');
    await projects.rename('  ', 'Study');
    expect(fake.count('renameProject')).toBe(0);
    await projects.rename('Study 2', 'Study');
    expect(projects.recent.map((p) => p.name)).toEqual(['Study 2', 'Pilot']);
    expect(projects.busy).toBe(false);

    await projects.forget(PILOT.path);
    expect(projects.recent.map((p) => p.name)).toEqual(['Study 2']);
    expect(fake.count('listRecentProjects')).toBe(2);
  });

  it('a switch finishes what is in flight first, then opens; each refusal stays where it came from', async () => {
    const order: string[] = [];
    const fake = new FakeClient({
      openProject: ({ path }) => {
        order.push(`open ${path}`);
        if (!path.endsWith('.sqlite')) throw new Error(`Not a WavFusion project: ${path}`);
        return info(path, 'Pilot');
      },
      newProject: ({ path }) => {
        throw new Error(`A file is already there: ${path}`);
      },
    });
    const beforeSwitch = vi.fn(() => {
      order.push('settle');
      return Promise.resolve();
    });
    const projects = new ProjectsState(fake.client, beforeSwitch);

    expect(await projects.openFile(' /home/ana/notes.txt ')).toBe(false);
    expect(projects.openError).toBe('Not a WavFusion project: /home/ana/notes.txt');
    expect(projects.recentError).toBeNull();

    expect(await projects.create({ path: ' /home/ana/study.sqlite ', name: ' Study ', labels: 'current' })).toBe(false);
    expect(projects.newError).toBe('A file is already there: /home/ana/study.sqlite');
    expect(fake.calls.find((c) => c.name === 'newProject')?.input).toEqual({
      path: '/home/ana/study.sqlite',
      name: 'Study',
      labels: 'current',
    });
    expect(projects.openError).toMatch(/Not a WavFusion project/);

    expect(await projects.openRecent(PILOT.path)).toBe(true);
    expect(projects.recentError).toBeNull();
    expect(projects.busy).toBe(false);
    expect(order).toEqual(['settle', 'open /home/ana/notes.txt', 'settle', 'settle', `open ${PILOT.path}`]);

    // Nothing to open or create asks nothing.
    expect(await projects.openFile('  ')).toBe(false);
    expect(await projects.create({ path: '/home/ana/x.sqlite', name: ' ' })).toBe(false);
    expect(beforeSwitch).toHaveBeenCalledTimes(3);
  });

  it('a recent list that cannot be read or changed says why', async () => {
    const fake = new FakeClient({
      listRecentProjects: () => {
        throw new Error('The studio host is not reachable');
      },
      forgetRecentProject: () => {
        throw new Error('The recent list cannot be written');
      },
    });
    const projects = new ProjectsState(fake.client, () => Promise.resolve());
    await projects.loadRecent();
    expect(projects.recentError).toBe('The studio host is not reachable');
    await projects.forget(STUDY.path);
    expect(projects.recentError).toBe('The recent list cannot be written');
    expect(projects.chooseFile).toBeNull();
  });
});
