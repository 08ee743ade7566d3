import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { buildProgram, commandTree } from './index.js';

/** A command's whole `--help`, the text added after the options included, as a user sees it. */
function helpOf(command: Command): string {
  let text = '';
  command.configureOutput({ writeOut: (chunk) => (text += chunk), writeErr: (chunk) => (text += chunk) });
  command.outputHelp();
  return text;
}

const program = buildProgram();
const tree = commandTree(program).filter(({ command }) => command.name() !== 'help');

describe('attune --help', () => {
  it('groups the commands and points to each command’s own help', () => {
    const help = helpOf(program);
    for (const group of [
      'Getting started:',
      'Data and models:',
      'Customer insights:',
      'Experiments and decisions:',
      'Administration:',
    ]) {
      expect(help).toContain(group);
    }
    // The quick start comes first, then the everyday data commands.
    expect(help.indexOf('start [options]')).toBeLessThan(help.indexOf('import [options]'));
    expect(help).toContain('Run `attune <command> --help`');
    expect(help).toMatch(/Examples:\n {2}\$ attune start/);
  });

  it('walks every command and subcommand', () => {
    const names = tree.map((t) => t.name);
    for (const name of [
      'train',
      'import',
      'evaluate',
      'churn train',
      'segments evaluate',
      'keys revoke',
      'features export',
    ])
      expect(names).toContain(name);
    expect(names.length).toBeGreaterThanOrEqual(25);
  });

  it.each(tree.map((t) => [t.name, t.command] as const))(
    '`attune %s --help` has a description, described options and an Examples section',
    (name, command) => {
      const help = helpOf(command);
      expect(command.description().length, name).toBeGreaterThan(10);
      expect(help).toContain(command.description().slice(0, 30));
      const examples = /\nExamples:\n((?: {2}\$ .+\n?)+)/.exec(help);
      expect(examples, `${name}: no Examples section`).not.toBeNull();
      const lines = examples![1]!.trim().split('\n');
      expect(lines.length).toBeGreaterThanOrEqual(1);
      expect(lines.length).toBeLessThanOrEqual(4);
      // Each example runs this command (or, for a group, one of its subcommands).
      for (const line of lines) expect(line).toContain(`attune ${name}`);
      for (const option of command.options)
        expect(option.description, `${name} ${option.flags}`).not.toBe('');
      // A flag that is off unless given says nothing about `false`.
      expect(help).not.toContain('(default: false)');
    },
  );

  it('lists --json on every command that prints a record', () => {
    for (const name of [
      'train',
      'import',
      'demo',
      'evaluate',
      'churn train',
      'churn evaluate',
      'segments train',
      'segments evaluate',
    ]) {
      const command = tree.find((t) => t.name === name)!.command;
      expect(helpOf(command), name).toMatch(/--json\s/);
    }
  });
});
