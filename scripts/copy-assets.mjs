// Copies the non-TypeScript files the runtime reads (Lua scripts, JSON data) from src/ to dist/ after tsc.
import { cpSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const assetPattern = /\.(lua|json)$/;

function copyAssets(directory) {
  for (const name of readdirSync(directory)) {
    const path = join(directory, name);
    if (statSync(path).isDirectory()) {
      if (name !== '__fixtures__') copyAssets(path);
    } else if (assetPattern.test(name)) {
      cpSync(path, join('dist', relative('src', path)));
    }
  }
}

copyAssets('src');
