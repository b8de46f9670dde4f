/** The exporters to other tools' formats, by name (audiofolder, CSV and JSONL live in export-service). */
import { eafExport } from './eaf';
import { labelStudioExport } from './label-studio';
import type { CorpusExportFormat } from './project-corpus';
import { textgridExport } from './textgrid';

export const CORPUS_EXPORTS: Record<CorpusExportFormat['name'], CorpusExportFormat> = {
  textgrid: textgridExport,
  eaf: eafExport,
  'label-studio': labelStudioExport,
};

export const isCorpusExport = (format: string): format is CorpusExportFormat['name'] =>
  Object.hasOwn(CORPUS_EXPORTS, format);
