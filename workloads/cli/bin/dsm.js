#!/usr/bin/env node
// The installed `dsm` command: a committed shim, so npm links it even before the first build.
import '../dist/main.js';
