import { defineConfig } from 'vitest/config';
import projects from './vitest.workspace.js';

// vitest 4 no longer reads vitest.workspace.ts on its own, and a run that finds no
// project passes silently: fail loudly instead.
if (!Array.isArray(projects) || projects.length === 0) {
  throw new Error('vitest.workspace.ts lists no test projects');
}

export default defineConfig({
  test: {
    projects,
    passWithNoTests: false,
  },
});
