#!/usr/bin/env node
import { runCommand } from './command.js';

void runCommand(process.argv.slice(2), process).then((status) => {
  // stdin may still be open (a BYE line ends the session before the input does), so exit
  // explicitly, once stdout has taken everything written to it.
  process.stdout.write('', () => process.exit(status));
});
