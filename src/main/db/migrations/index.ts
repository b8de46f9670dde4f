import { migration001 } from './001-initial';
import { migration002 } from './002-predictions';
import { migration003 } from './003-prediction-embeddings';
import { migration004 } from './004-annotators';
import { migration005 } from './005-history-batches';
import { migration006 } from './006-segment-edits';
import { migration007 } from './007-prediction-precision';
import { migration008 } from './008-label-guidelines';
import { migration009 } from './009-unsure-and-text-edits';
import { migration010 } from './010-imported-splits';
import { migration011 } from './011-handouts-and-merges';
import { migration012 } from './012-annotator-shares';
import { migration013 } from './013-annotations-by-annotator';
import { migration014 } from './014-vote-tallies';
import { migration015 } from './015-predictions-by-confidence';
import { migration016 } from './016-vote-tally-triggers';
import type { Migration } from './types';

/** Every migration, in order. Add a new file `NNN-name.ts` and list it here. */
export const migrations: readonly Migration[] = [
  migration001,
  migration002,
  migration003,
  migration004,
  migration005,
  migration006,
  migration007,
  migration008,
  migration009,
  migration010,
  migration011,
  migration012,
  migration013,
  migration014,
  migration015,
  migration016,
];

export const LATEST_SCHEMA_VERSION = migrations[migrations.length - 1]!.version;
