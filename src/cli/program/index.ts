import { readFileSync } from 'node:fs';
import { Command, Help } from 'commander';
import { registerKeys, registerModels, registerStart } from './core.js';
import { registerExperiments } from './experiments.js';
import { registerInsights } from './insights.js';
import { examples } from './shared.js';

/**
 * The `attune` command tree: every command with its options, defaults and examples, grouped in the
 * top-level help the way a user meets them (start, then data and models, then measuring, then the rest).
 * Built by a function so that tests can walk the tree without running anything.
 */
export function buildProgram(): Command {
  const program = new Command('attune')
    .description(
      'Attune: a self-hosted personalization engine. Events in, recommendations out, with measured lift.',
    )
    .version(packageVersion(), '-V, --version', 'print the version')
    .option('--verbose', 'print stack traces with errors (also: ATTUNE_DEBUG=1)')
    // Only the pointer, not the whole help: the error line stays the last thing a user reads.
    .showHelpAfterError("(run with --help for this command's options and examples)")
    // Errors are thrown, not exited on, so main.ts sets the status (2: usage) and tests can parse safely.
    // Set before the commands are added: subcommands copy it when created.
    .exitOverride()
    // A flag that is off unless given needs no "(default: false)"; every other default is shown.
    .configureHelp({
      optionDescription(option) {
        const plain = option.defaultValue === false && option.defaultValueDescription === undefined;
        return plain ? option.description : new Help().optionDescription(option);
      },
    });

  program.commandsGroup('Getting started:');
  registerStart(program);
  program.commandsGroup('Data and models:');
  registerModels(program);
  program.commandsGroup('Customer insights:');
  registerInsights(program);
  program.commandsGroup('Experiments and decisions:');
  registerExperiments(program);
  program.commandsGroup('Administration:');
  registerKeys(program);
  program.helpCommand('help [command]', 'show the help of a command');

  examples(program, [
    'attune start                                   # the demo shop, trained and served on :8080',
    'attune import --format ml100k ml-100k/u.data && attune train',
    'attune evaluate --input ml-100k/u.data --format ml100k --auto',
    'attune experiments report holdout',
  ]);
  program.addHelpText(
    'after',
    '\nRun `attune <command> --help` for a command’s options and examples. Add --json for the\n' +
      'machine-readable record on stdout; progress and messages go to stderr.',
  );
  return program;
}

/** The version in package.json (the same path from src/ and from the compiled dist/). */
function packageVersion(): string {
  const json = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as {
    version?: string;
  };
  return json.version ?? 'unknown';
}

/** Every command under `root`, depth first, with its full name (`segments train`). */
export function commandTree(root: Command): { readonly name: string; readonly command: Command }[] {
  const out: { name: string; command: Command }[] = [];
  const walk = (command: Command, prefix: string) => {
    for (const child of command.commands) {
      const name = `${prefix}${child.name()}`;
      out.push({ name, command: child });
      walk(child, `${name} `);
    }
  };
  walk(root, '');
  return out;
}
