#!/usr/bin/env node
// The `mailwright` command. A committed file, so that `npm ci` links the bin before the build.
import '../dist/cli.js';
