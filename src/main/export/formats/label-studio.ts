/**
 * Label Studio export: `tasks.json`, one task per recording (`data.audio`: the recording's absolute
 * path; serve it through Label Studio's local storage to play it there). Each annotator's labels are
 * one annotation (`created_username` carries the name, `completed_by` a number); every utterance's
 * boundaries and transcript ride along as `textarea` regions in each annotation (so unlabelled
 * utterances survive), speakers as `speaker` labels; the annotator's valence/arousal/dominance as
 * `rating` results (1–5), their note as a `note` text area, their unsure flag as an `unsure` choice,
 * and the first and latest time of their annotations as `created_at`/`updated_at` (Label Studio keeps
 * one time per annotation); each model version's predictions are one
 * prediction with per-region scores. `label-config.xml` is a labelling config that shows them.
 */
import type { CorpusExportFormat, ExportRecording } from './project-corpus';
import { annotatorsOf } from './project-corpus';

const round = (s: number) => Math.round(s * 1e6) / 1e6;

function regions(rec: ExportRecording, who: string | undefined) {
  const result: Record<string, unknown>[] = [];
  rec.segments.forEach((s) => {
    const value = { start: round(s.start), end: round(s.end), channel: 0 };
    const id = `u${s.utteranceId}`;
    const base = { id, to_name: 'audio', origin: 'manual', original_length: rec.durationS };
    result.push({ ...base, from_name: 'transcription', type: 'textarea', value: { ...value, text: [s.text] } });
    if (s.speaker)
      result.push({ ...base, from_name: 'speaker', type: 'labels', value: { ...value, labels: [s.speaker] } });
    if (who !== undefined) {
      const a = s.annotations.find((x) => x.annotator === who && x.label);
      if (a) result.push({ ...base, from_name: 'emotion', type: 'labels', value: { ...value, labels: [a.label] } });
      const own = s.annotations.find((x) => x.annotator === who);
      for (const dim of ['valence', 'arousal', 'dominance'] as const) {
        const rating = own?.[dim];
        if (rating !== null && rating !== undefined)
          result.push({ ...base, from_name: dim, type: 'rating', value: { ...value, rating } });
      }
      if (own?.note)
        result.push({ ...base, from_name: 'note', type: 'textarea', value: { ...value, text: [own.note] } });
      if (own?.unsure)
        result.push({ ...base, from_name: 'unsure', type: 'choices', value: { ...value, choices: ['unsure'] } });
    }
  });
  return result;
}

export function labelStudioTasks(recordings: ExportRecording[]): { tasks: unknown[]; warnings: string[] } {
  const userIds = new Map<string, number>();
  const warnings: string[] = [];
  let skippedImported = 0;
  const tasks = recordings.map((rec, t) => {
    const people = annotatorsOf(rec).filter((a): a is string => a !== null);
    skippedImported += rec.segments.filter((s) => s.annotations.some((a) => a.annotator === null)).length;
    const annotations = (people.length ? people : [undefined]).map((who, k) => {
      const name = who ?? 'wavfusion';
      if (!userIds.has(name)) userIds.set(name, userIds.size + 1);
      const id = userIds.get(name)!;
      // Label Studio keeps one time per annotation: the first and the latest of this person's here.
      const times = rec.segments
        .flatMap((s) => s.annotations.filter((a) => a.annotator === who).map((a) => a.annotatedAt))
        .filter((at): at is string => !!at)
        .sort();
      return {
        id: t * 1000 + k + 1,
        completed_by: id,
        created_username: `${name}, ${id}`,
        ...(times.length ? { created_at: times[0], updated_at: times[times.length - 1] } : {}),
        was_cancelled: false,
        ground_truth: false,
        result: regions(rec, who),
      };
    });
    const versions = new Map<
      string,
      { label: string; score: number | null; seg: ExportRecording['segments'][number] }[]
    >();
    for (const s of rec.segments)
      for (const p of s.predictions) {
        const list = versions.get(p.modelVersion) ?? [];
        list.push({ label: p.label, score: p.score, seg: s });
        versions.set(p.modelVersion, list);
      }
    const predictions = [...versions].map(([version, list]) => {
      const scores = list.map((p) => p.score).filter((x): x is number => x !== null);
      return {
        model_version: version,
        score: scores.length ? round(scores.reduce((a, b) => a + b, 0) / scores.length) : null,
        result: list.map((p) => ({
          id: `u${p.seg.utteranceId}`,
          from_name: 'emotion',
          to_name: 'audio',
          type: 'labels',
          original_length: rec.durationS,
          value: { start: round(p.seg.start), end: round(p.seg.end), channel: 0, labels: [p.label] },
          score: p.score,
        })),
      };
    });
    return { id: t + 1, data: { audio: rec.media }, annotations, predictions };
  });
  if (skippedImported)
    warnings.push(
      `${skippedImported} imported (not a person's) label(s) are not written: Label Studio has no place for them`,
    );
  return { tasks, warnings };
}

export function labelConfig(labels: string[]): string {
  const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  return [
    '<View>',
    '  <Audio name="audio" value="$audio"/>',
    '  <Labels name="emotion" toName="audio">',
    ...labels.map((l) => `    <Label value="${esc(l)}"/>`),
    '  </Labels>',
    '  <TextArea name="transcription" toName="audio" perRegion="true" editable="true"/>',
    // Valence, arousal and dominance on the studio's scale (1–5), the note and the unsure flag, per region.
    ...(['valence', 'arousal', 'dominance'] as const).map(
      (dim) => `  <Rating name="${dim}" toName="audio" maxRating="5" perRegion="true"/>`,
    ),
    '  <TextArea name="note" toName="audio" perRegion="true" editable="true"/>',
    '  <Choices name="unsure" toName="audio" perRegion="true" choice="single">',
    '    <Choice value="unsure"/>',
    '  </Choices>',
    '</View>',
    '',
  ].join('\n');
}

export const labelStudioExport: CorpusExportFormat = {
  name: 'label-studio',
  async write(corpus, write) {
    const { tasks, warnings } = labelStudioTasks(corpus.recordings);
    await write('tasks.json', JSON.stringify(tasks, null, 2));
    await write('label-config.xml', labelConfig(corpus.labels));
    return warnings;
  },
};
