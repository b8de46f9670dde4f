/**
 * Projects from the UI: new, open and recent projects, the project's name, and the web mode's
 * folder and file picker. Re-exported by contract.ts, whose `operations` use these schemas.
 */
import { z } from 'zod';

/** A path as typed or picked: absolute on the host (a relative one is resolved against the home folder). */
export const HostPath = z
  .string()
  .trim()
  .min(1, 'a path is needed')
  .max(4096)
  .refine((p) => !p.includes('\u0000'), 'a path cannot contain NUL');

export const ProjectName = z.string().trim().min(1, 'a project needs a name').max(120);

/** The file extension a project gets when a new one is named without one. */
export const PROJECT_EXTENSION = '.sqlite';
/** What the pickers offer as project files. */
export const PROJECT_EXTENSIONS = ['.sqlite', '.db'];

export const RecentProject = z.object({
  path: z.string(),
  name: z.string(),
  /** When it was last opened (ISO 8601). */
  openedAt: z.string(),
  /** Whether the file is still there (a moved or deleted project stays listed until removed). */
  exists: z.boolean(),
});
export type RecentProject = z.infer<typeof RecentProject>;

export const NewProjectRequest = z.object({
  /** The new project file; it must not exist yet (`.sqlite` is added when there is no extension). */
  path: HostPath,
  name: ProjectName,
  /** The label set to start with: the default four, or the open project's labels and guidelines. */
  labels: z.enum(['default', 'current']).default('default'),
});
export type NewProjectRequest = z.input<typeof NewProjectRequest>;

export const OpenProjectRequest = z.object({ path: HostPath });

export const BrowseRequest = z.object({
  /** The folder to list; none: the home folder. */
  path: HostPath.optional(),
  /** What is being picked: a folder (only folders are listed) or a file (folders and matching files). */
  select: z.enum(['folder', 'file']).default('folder'),
  /** For `select: 'file'`: the file extensions to list (none: every file). */
  extensions: z
    .array(z.string().regex(/^\.[A-Za-z0-9]{1,10}$/, 'an extension looks like .sqlite'))
    .max(20)
    .default([]),
});
export type BrowseRequest = z.output<typeof BrowseRequest>;

export const BrowseEntry = z.object({
  name: z.string(),
  path: z.string(),
  kind: z.enum(['folder', 'file']),
});
export type BrowseEntry = z.infer<typeof BrowseEntry>;

export const BrowseListing = z.object({
  /** The folder listed, as it really is (links resolved). */
  path: z.string(),
  /** Its parent, when the parent may be browsed too. */
  parent: z.string().nullable(),
  /** Folders first, then files; names only, never contents. Hidden (dot) entries are left out. */
  entries: z.array(BrowseEntry),
  /** More entries than are listed. */
  truncated: z.boolean(),
  /** Where browsing may go: the home folder and the folders of projects the user opened. */
  roots: z.array(z.object({ label: z.string(), path: z.string() })),
});
export type BrowseListing = z.infer<typeof BrowseListing>;

/** Where a project's guidelines point: an utterance of the project that shows the label. */
export const LabelExample = z.object({
  utteranceId: z.number().int().positive(),
  /** What to call it: the recording's file name and the segment's start, and the transcript's start. */
  title: z.string(),
});
export type LabelExample = z.infer<typeof LabelExample>;

/** At most this many example utterances per label. */
export const MAX_LABEL_EXAMPLES = 8;
export const LabelDefinition = z.string().max(2000);
