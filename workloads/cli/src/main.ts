#!/usr/bin/env node
/** dsm: the DSM command line (see README.md). */
import { run } from './program.js';

process.exitCode = await run(process.argv, { stdout: process.stdout, stderr: process.stderr });
