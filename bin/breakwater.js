#!/usr/bin/env node
// The `breakwater` command: runs the compiled CLI (build with `npm run build`).
import('../dist/cli/main.js').catch((error) => {
  if (error && error.code === 'ERR_MODULE_NOT_FOUND') {
    console.error('breakwater: dist/ is missing; run `npm run build` first (npm start does it for you).');
    process.exit(1);
  }
  throw error;
});
