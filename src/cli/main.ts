#!/usr/bin/env node
import { EXIT_USAGE, isCommanderError, reportError, verboseRequested } from './errors.js';
import { applyV8Flags } from './v8-flags.js';

const verbose = verboseRequested(process.argv);

// V8's flags hold for the whole process, so they are set before the program and everything it imports is
// loaded (`import()` after them, not a static import, which would be evaluated first).
Promise.resolve()
  .then(() => applyV8Flags())
  .then(() => import('./program/index.js'))
  .then(({ buildProgram }) => buildProgram().parseAsync())
  .catch((error: unknown) => {
    if (isCommanderError(error)) {
      // Commander has written its message (and the pointer to --help) already. Help and --version are not
      // errors; everything else it refuses is the command line: a usage error.
      const fine = error.code === 'commander.helpDisplayed' || error.code === 'commander.version';
      const help = error.code === 'commander.help' && error.exitCode === 0;
      process.exit(fine || help ? 0 : EXIT_USAGE);
    }
    process.exit(reportError(error, verbose, (text) => process.stderr.write(text)));
  });
