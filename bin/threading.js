#!/usr/bin/env node
// The `threading` command: see src/distributed/cli.ts (`threading worker --help`).
import "../dist/distributed/cli.js";
