import type {
  AgreementReport,
  AgreementRequest,
  ConsensusDetail,
  Estimate,
  LabellingSettings,
  RosterEntry,
  RowConsensus,
} from '../../shared/agreement-contract';
import { AgreementRequest as AgreementRequestSchema } from '../../shared/agreement-contract';
import {
  AdjudicationsRepository,
  AnnotatorsRepository,
  LabellingSettingsRepository,
  type AnnotatorRole,
} from '../db/annotators-repository';
import { StudioError, notFound } from '../errors';
import type { StudioEvents } from '../events';
import { seededRandom } from '../export/split';
import type { ProjectStore } from '../project/project-store';
import { shareSum, sharesCover } from './assignment';
import {
  assignmentPool,
  itemConsensus,
  needsLabelOf,
  projectConsensus,
  type ItemConsensus,
  type Vote,
} from './consensus';
import {
  alphaBootstrapper,
  bootstrapCi,
  cohenKappa,
  coincidences,
  consensusLabel,
  countTable,
  fleissBootstrapper,
  fleissKappa,
  kappaBootstrapper,
  kappaOfPairs,
  krippendorffAlpha,
  linCcc,
  type Metric,
  type Rating,
} from './stats';

type Dimension = 'valence' | 'arousal' | 'dominance';

/**
 * Several annotators per utterance: the roster, the labelling settings, consensus and adjudication,
 * blind mode (what the current annotator may see) and the agreement report.
 */
export class AgreementService {
  readonly roster: AnnotatorsRepository;
  readonly settingsRepo: LabellingSettingsRepository;
  readonly adjudications: AdjudicationsRepository;

  /** `events`: where roster, settings and adjudication changes are announced (none for the CLI). */
  constructor(
    private readonly store: ProjectStore,
    private readonly events: StudioEvents | null = null,
  ) {
    this.roster = new AnnotatorsRepository(store.db);
    this.settingsRepo = new LabellingSettingsRepository(store.db);
    this.adjudications = new AdjudicationsRepository(store.db);
  }

  // ---------- roster ----------

  listAnnotators(): RosterEntry[] {
    const counts = new Map(
      this.store.db
        .prepare<[], { annotator: string; n: number }>(
          `SELECT annotator, COUNT(*) AS n FROM annotations WHERE origin = 'human' GROUP BY annotator`,
        )
        .all()
        .map((r) => [r.annotator, r.n]),
    );
    const out: RosterEntry[] = this.roster.list().map((r) => ({
      name: r.name,
      role: r.role,
      annotations: counts.get(r.name) ?? 0,
      onRoster: true,
      share: r.share,
    }));
    for (const [name, n] of counts)
      if (!out.some((r) => r.name === name))
        out.push({ name, role: 'annotator', annotations: n, onRoster: false, share: 1 });
    return out;
  }

  /**
   * Sets an annotator's share of the utterances (0 < share <= 1; 1: all). Refused, with nothing changed,
   * outside that range, for an adjudicator (who settles rather than labels) or someone not on the roster,
   * and when the annotators' shares would add up to fewer than the K labels each utterance needs.
   */
  setAnnotatorShare(name: string, share: number): RosterEntry[] {
    if (!Number.isFinite(share) || share <= 0 || share > 1)
      throw new StudioError(
        'invalid_request',
        `A share must be more than 0 and at most 1 (1: every utterance); ${share} is not`,
      );
    this.store.transaction(() => {
      const entry = this.roster.byName(name.trim());
      if (!entry) throw notFound(`Annotator "${name}" on the roster`);
      if (entry.role !== 'annotator')
        throw new StudioError(
          'conflict',
          `"${entry.name}" is an adjudicator: adjudicators settle disagreements and have no share of the labelling`,
        );
      const pool = assignmentPool(this.store.db).map((a) => (a.name === entry.name ? { ...a, share } : a));
      this.checkShares(pool, this.settingsRepo.get().labelsPerUtterance);
      this.roster.setShare(entry.name, share);
    });
    return this.announce();
  }

  /** Refuses shares that cannot give each utterance `k` labels. */
  private checkShares(pool: readonly { name: string; share: number }[], k: number): void {
    if (sharesCover(pool, k)) return;
    throw new StudioError(
      'conflict',
      `The annotators' shares add up to ${shareSum(pool)}, fewer than the ${k} labels needed per utterance: ` +
        `raise a share, add an annotator or lower the labels per utterance`,
    );
  }

  /** Adds a person, or changes the role of one on the roster (same name, same case). */
  saveAnnotator(name: string, role: AnnotatorRole): RosterEntry[] {
    const clean = name.trim().normalize('NFC');
    if (!clean) throw new StudioError('invalid_request', 'An annotator needs a name');
    this.store.transaction(() => {
      const existing = this.roster.byName(clean);
      if (existing && existing.name !== clean) {
        throw new StudioError(
          'conflict',
          `"${existing.name}" is already on the roster (names are compared ignoring case); use that name`,
        );
      }
      if (existing) this.roster.setRole(clean, role);
      else this.roster.insert(clean, role, new Date().toISOString());
    });
    return this.announce();
  }

  /** Makes sure the current annotator is on the roster (when chosen, or when they first label). */
  ensureOnRoster(name: string): void {
    if (!this.roster.byName(name)) this.store.transaction(() => this.roster.ensure(name, new Date().toISOString()));
  }

  /** Refused while the person has annotations or adjudications: their work would lose its author. */
  removeAnnotator(name: string): RosterEntry[] {
    this.store.transaction(() => {
      const entry = this.roster.byName(name);
      if (!entry) throw notFound(`Annotator "${name}"`);
      const labels = this.listAnnotators().find((r) => r.name === entry.name)?.annotations ?? 0;
      const adjudicated = this.adjudications.countBy(entry.name);
      if (labels > 0 || adjudicated > 0) {
        throw new StudioError(
          'conflict',
          `"${entry.name}" has ${labels} annotation(s) and ${adjudicated} adjudication(s); ` +
            `an annotator with work in the project cannot be removed`,
        );
      }
      this.roster.delete(entry.name);
    });
    return this.announce();
  }

  // ---------- settings ----------

  settings(): LabellingSettings {
    return this.settingsRepo.get();
  }

  /**
   * Changes the settings. K may not exceed the annotators on the roster. Blind mode turns on by
   * default when K goes above 1 (unless the change says otherwise).
   */
  setSettings(change: Partial<LabellingSettings>): LabellingSettings {
    const settings = this.store.transaction(() => {
      const current = this.settingsRepo.get();
      const next = { ...current, ...change };
      if (change.labelsPerUtterance !== undefined && change.labelsPerUtterance !== current.labelsPerUtterance) {
        const annotators = this.listAnnotators().filter((r) => r.role === 'annotator').length;
        if (next.labelsPerUtterance > Math.max(annotators, 1)) {
          throw new StudioError(
            'conflict',
            `${next.labelsPerUtterance} labels per utterance needs at least ${next.labelsPerUtterance} annotators; ` +
              `the roster has ${annotators}. Add annotators first`,
          );
        }
        this.checkShares(assignmentPool(this.store.db), next.labelsPerUtterance);
        if (change.blind === undefined && current.labelsPerUtterance === 1 && next.labelsPerUtterance > 1)
          next.blind = true;
      }
      this.settingsRepo.set(next);
      return next;
    });
    this.announce();
    return settings;
  }

  /** Tells every renderer the roster and settings (after the change committed); returns the roster. */
  private announce(): RosterEntry[] {
    const roster = this.listAnnotators();
    this.events?.emit('labellingChanged', { settings: this.settingsRepo.get(), roster });
    return roster;
  }

  // ---------- blind mode ----------

  /** Whether `viewer` sees others' labels (and whether the prediction) on this utterance. */
  visibility(utteranceId: number, viewer = this.store.annotator): { others: boolean; model: boolean } {
    const s = this.settingsRepo.get();
    if (!s.blind || this.roster.role(viewer) === 'adjudicator') return { others: true, model: true };
    const own = this.store.db
      .prepare(
        `SELECT 1 FROM annotations WHERE utterance_id = ? AND origin = 'human' AND annotator = ? AND label_id IS NOT NULL`,
      )
      .get(utteranceId, viewer);
    return own ? { others: true, model: true } : { others: false, model: !s.blindModel };
  }

  // ---------- consensus and adjudication ----------

  detail(utteranceId: number): ConsensusDetail {
    if (!this.store.utterances.byId(utteranceId)) throw notFound(`Utterance ${utteranceId}`);
    const { settings, items } = projectConsensus(this.store.db, utteranceId);
    const c = items.get(utteranceId) ?? itemConsensus([], settings);
    const see = this.visibility(utteranceId).others;
    const votes = this.store.db
      .prepare<[number], ConsensusDetail['votes'][number]>(
        `SELECT a.annotator, a.label_id AS labelId, a.valence, a.arousal, a.dominance, a.note, a.updated_at AS updatedAt
         FROM annotations a LEFT JOIN annotators r ON r.name = a.annotator
         WHERE a.utterance_id = ? AND a.origin = 'human' AND (r.role IS NULL OR r.role = 'annotator')
         ORDER BY a.annotator`,
      )
      .all(utteranceId);
    const viewer = this.store.annotator;
    return {
      utteranceId,
      hidden: !see,
      state: see ? c.state : 'pending',
      labelId: see ? c.labelId : null,
      labels: c.labels,
      needed: settings.labelsPerUtterance,
      agreement: see ? c.agreement : null,
      counts: see ? [...c.counts].map(([labelId, n]) => ({ labelId, votes: n })) : [],
      votes: see ? votes : votes.filter((v) => v.annotator === viewer),
      adjudication:
        see && c.adjudication
          ? {
              labelId: c.adjudication.labelId,
              adjudicator: c.adjudication.adjudicator,
              reason: c.adjudication.reason,
              at: c.adjudication.at,
            }
          : null,
    };
  }

  /** An adjudicator sets the final label of an utterance, with a reason. */
  adjudicate(utteranceId: number, labelId: number, reason: string): ConsensusDetail {
    const adjudicator = this.store.annotator;
    if (this.roster.role(adjudicator) !== 'adjudicator') {
      throw new StudioError(
        'forbidden',
        `"${adjudicator}" is not an adjudicator; an adjudicator on the roster sets final labels`,
      );
    }
    if (!this.store.utterances.byId(utteranceId)) throw notFound(`Utterance ${utteranceId}`);
    if (!this.store.labels.byId(labelId)) throw notFound(`Label ${labelId}`);
    const why = reason.trim();
    if (!why) throw new StudioError('invalid_request', 'An adjudication needs a reason');
    this.store.transaction(() =>
      this.adjudications.add({ utteranceId, labelId, adjudicator, reason: why, at: new Date().toISOString() }),
    );
    const row = this.store.row(utteranceId);
    if (row) this.events?.emit('annotationChanged', { row });
    return this.detail(utteranceId);
  }

  /** Row decorations for a list: consensus per utterance as `viewer` may see it. */
  rowConsensus(utteranceIds: readonly number[], viewer = this.store.annotator): Map<number, RowConsensus> {
    const { settings, items, votes } = projectConsensus(
      this.store.db,
      utteranceIds.length === 1 ? utteranceIds[0] : undefined,
    );
    const allSee = !settings.blind || this.roster.role(viewer) === 'adjudicator';
    const needsLabel = needsLabelOf(this.store.db, viewer, settings);
    const out = new Map<number, RowConsensus>();
    for (const id of utteranceIds) {
      const c = items.get(id) ?? itemConsensus([], settings);
      const own = (votes.get(id) ?? []).some((v) => v.annotator === viewer && v.labelId !== null);
      const see = allSee || own;
      out.set(id, {
        state: see ? c.state : null,
        labels: c.labels,
        needed: settings.labelsPerUtterance,
        labelId: see ? c.labelId : null,
        hidden: !see,
        needsMe: needsLabel(id, c, own),
      });
    }
    return out;
  }

  /** Per utterance: consensus, for export and filters. */
  allConsensus(): { settings: LabellingSettings; items: Map<number, ItemConsensus>; votes: Map<number, Vote[]> } {
    return projectConsensus(this.store.db);
  }

  // ---------- the agreement report ----------

  report(request: AgreementRequest = {}): AgreementReport {
    const { bootstrap, seed } = AgreementRequestSchema.parse(request);
    const { store } = this;
    const { settings, items, votes } = projectConsensus(store.db);
    const labels = store.labels.list().map((l) => ({ id: l.id, name: l.name }));
    const labelName = new Map(labels.map((l) => [l.id, l.name]));
    const annotators = [...new Set([...votes.values()].flat().map((v) => v.annotator))].sort();
    const units = [...votes.keys()];
    const col = new Map(annotators.map((a, i) => [a, i]));
    const matrix = (pick: (v: Vote) => number | null): Rating[][] =>
      units.map((u) => {
        const row: Rating[] = new Array<Rating>(annotators.length).fill(null);
        for (const v of votes.get(u)!) row[col.get(v.annotator)!] = pick(v);
        return row;
      });
    const categorical = matrix((v) => v.labelId);
    const labelledUnits = categorical.filter((r) => r.some((x) => x !== null));
    const pairable = categorical.filter((r) => r.filter((x) => x !== null).length >= 2).length;
    const warnings: string[] = [];
    if (annotators.length < 2)
      warnings.push(
        `Agreement needs at least 2 annotators; ${annotators.length === 0 ? 'nobody has' : `only "${annotators[0]}" has`} labelled`,
      );
    else if (pairable === 0) warnings.push('No utterance has labels from 2 annotators: no overlap to measure');

    const random = seededRandom(seed);
    // The bootstrap statistic is built only when intervals are asked for.
    const estimate = (
      value: number | null,
      n: number,
      unitCount: number,
      stat: () => (s: Int32Array) => number | null,
    ): Estimate => ({
      value,
      n,
      ci: value === null || bootstrap === 0 ? null : bootstrapCi(unitCount, stat(), bootstrap, random),
    });

    // Categorical: α nominal, Fleiss' κ, Cohen's κ per pair.
    const alphaNominal = estimate(krippendorffAlpha(categorical, 'nominal'), pairable, categorical.length, () =>
      alphaBootstrapper(categorical, 'nominal'),
    );
    const labelIds = labels.map((l) => l.id);
    const table = countTable(categorical, labelIds);
    const fleiss = estimate(fleissKappa(table), pairable, table.length, () => fleissBootstrapper(table));
    const pairwise: AgreementReport['categorical']['pairwise'] = [];
    for (let a = 0; a < annotators.length; a++)
      for (let b = a + 1; b < annotators.length; b++) {
        const pairs = categorical.filter((r) => r[a] !== null && r[b] !== null).map((r) => [r[a]!, r[b]!] as const);
        const { kappa, n } = cohenKappa(
          categorical.map((r) => r[a] ?? null),
          categorical.map((r) => r[b] ?? null),
        );
        pairwise.push({
          a: annotators[a]!,
          b: annotators[b]!,
          kappa,
          n,
          ci:
            kappa === null || bootstrap === 0
              ? null
              : bootstrapCi(pairs.length, kappaBootstrapper(pairs), bootstrap, random),
        });
      }

    // Per class (specific agreement from the coincidence matrix) and the most confused pairs.
    const { values, o } = coincidences(categorical);
    const perClass = labels.map((l) => {
      const i = values.indexOf(l.id);
      if (i < 0) return { labelId: l.id, label: l.name, agreement: null, votes: 0 };
      const total = o[i]!.reduce((s, x) => s + x, 0);
      return { labelId: l.id, label: l.name, agreement: total > 0 ? o[i]![i]! / total : null, votes: total };
    });
    const confusedPairs: AgreementReport['categorical']['confusedPairs'] = [];
    for (let i = 0; i < values.length; i++)
      for (let j = i + 1; j < values.length; j++)
        if (o[i]![j]! > 0)
          confusedPairs.push({
            a: labelName.get(values[i]!) ?? String(values[i]),
            b: labelName.get(values[j]!) ?? String(values[j]),
            count: o[i]![j]! + o[j]![i]!,
          });
    confusedPairs.sort((x, y) => y.count - x.count || x.a.localeCompare(y.a) || x.b.localeCompare(y.b));

    // Each annotator against the consensus of the others.
    const perAnnotator = annotators.map((name, a) => {
      const pairs: [number, number][] = [];
      for (const r of categorical) {
        if (r[a] === null) continue;
        const others = r.filter((x, j) => j !== a && x !== null) as number[];
        const c = consensusLabel(others, 'majority');
        if (c !== null) pairs.push([r[a]!, c]);
      }
      return {
        annotator: name,
        n: pairs.length,
        accuracy: pairs.length ? pairs.filter(([x, y]) => x === y).length / pairs.length : null,
        kappa: kappaOfPairs(pairs),
      };
    });

    // The model against the consensus of all annotators, on the same scale.
    let model: AgreementReport['categorical']['model'] = null;
    const modelId = store.activeModelId;
    const m = modelId ? store.models.byId(modelId) : undefined;
    if (m) {
      const byName = new Map(labels.map((l) => [l.name.toLowerCase(), l.id]));
      const predicted = new Map(
        store.db
          .prepare<[number], { u: number; label: string }>(
            'SELECT utterance_id AS u, predicted_label AS label FROM predictions WHERE model_id = ?',
          )
          .all(m.id)
          .map((p) => [p.u, byName.get(p.label.toLowerCase()) ?? -1]),
      );
      const pairs: [number, number][] = [];
      units.forEach((u, i) => {
        const p = predicted.get(u);
        const c = consensusLabel(categorical[i]!.filter((x) => x !== null) as number[], 'majority');
        if (p !== undefined && c !== null) pairs.push([p, c]);
      });
      model = {
        name: `${m.name} ${m.version}`,
        n: pairs.length,
        accuracy: pairs.length ? pairs.filter(([x, y]) => x === y).length / pairs.length : null,
        kappa: kappaOfPairs(pairs),
      };
    }

    // Valence, arousal, dominance: α interval and ordinal; CCC of each annotator vs the mean of the others.
    const dimension = (d: Dimension) => {
      const data = matrix((v) => v[d]);
      const n = data.filter((r) => r.filter((x) => x !== null).length >= 2).length;
      const alpha = (metric: Metric) =>
        estimate(krippendorffAlpha(data, metric), n, data.length, () => alphaBootstrapper(data, metric));
      const ccc = annotators.map((name, a) => {
        const own: Rating[] = [];
        const rest: Rating[] = [];
        for (const r of data) {
          const others = r.filter((x, j) => j !== a && x !== null) as number[];
          own.push(r[a] ?? null);
          rest.push(others.length ? others.reduce((s, x) => s + x, 0) / others.length : null);
        }
        const { ccc: value, n: count } = linCcc(own, rest);
        return { annotator: name, ccc: value, n: count };
      });
      return { alphaInterval: alpha('interval'), alphaOrdinal: alpha('ordinal'), ccc };
    };

    const consensus = { pending: 0, agreed: 0, disagreed: 0, adjudicated: 0 };
    for (const c of items.values()) consensus[c.state]++;
    consensus.pending += store.utterances.count() - items.size;

    return {
      project: store.name,
      settings,
      annotators,
      labels,
      items: labelledUnits.length,
      pairableItems: pairable,
      consensus,
      categorical: {
        fleissKappa: fleiss,
        krippendorffAlpha: alphaNominal,
        pairwise,
        perClass,
        confusedPairs: confusedPairs.slice(0, 10),
        perAnnotator,
        model,
      },
      dimensions: { valence: dimension('valence'), arousal: dimension('arousal'), dominance: dimension('dominance') },
      bootstrap: { replicates: bootstrap, seed },
      warnings,
    };
  }
}
