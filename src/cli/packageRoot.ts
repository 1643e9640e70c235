import { InternalError } from '../domain/errors.js';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: { root: string; version: string } | undefined;

/** The rxtrade package folder (holding package.json, samples/, config/), from src/ or from dist/. */
export function packageRoot(): string {
  return info().root;
}

export function packageVersion(): string {
  return info().version;
}

function info(): { root: string; version: string } {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const pkg = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'rxtrade') return (cached = { root: dir, version: pkg.version ?? '0.0.0' });
    }
    const parent = dirname(dir);
    if (parent === dir)
      throw new InternalError('rxtrade: cannot find the package folder (package.json named rxtrade)');
    dir = parent;
  }
}
