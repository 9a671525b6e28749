#!/usr/bin/env node
// The `comm-server-threaded` command. It is this committed file rather than dist/cli.js itself so that
// `pnpm install` in a fresh clone, before anything is built, can link the command.
import '../dist/cli.js';
