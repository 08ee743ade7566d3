import { Option, type Command } from 'commander';
import { datasetFormats } from '../../evaluation/index.js';

/** The options many commands share, described once. */
export const dataDirOption = () =>
  new Option(
    '--data-dir <dir>',
    'the data directory holding the store (default: $ATTUNE_DATA_DIR, else ./.attune)',
  );

export const formatOption = () =>
  new Option(
    '--format <format>',
    'input format: ml100k (MovieLens u.data, tab-separated), movielens-csv (ratings.csv with a header), ' +
      'jsonl (one API event per line)',
  )
    .choices(datasetFormats)
    .makeOptionMandatory();

/** `--json`: the machine-readable record on stdout instead of the human summary. */
export const jsonOption = (
  what = 'one JSON object on stdout (the machine-readable record) instead of the summary',
) => new Option('--json', what).default(false);

/** 2–4 command lines a user would type, shown after the options in `--help`. */
export function examples(command: Command, lines: readonly string[]): Command {
  return command.addHelpText('after', `\nExamples:\n${lines.map((line) => `  $ ${line}`).join('\n')}`);
}
