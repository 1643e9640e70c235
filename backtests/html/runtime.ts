import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InternalError } from '../../src/domain/errors.js';

/** The browser builds a report inlines, in load order (vega-embed needs the globals `vega` and `vegaLite`). */
const BUNDLES = [
  ['vega', 'build/vega.min.js'],
  ['vega-lite', 'build/vega-lite.min.js'],
  ['vega-embed', 'build/vega-embed.min.js'],
] as const;

let cached: Promise<string[]> | undefined;

/**
 * The vega, vega-lite and vega-embed runtimes (their minified UMD builds, read from node_modules as Node
 * would resolve the packages from here), each ready to sit inside a `<script>` element.
 */
export function vegaRuntime(): Promise<string[]> {
  cached ??= Promise.all(
    BUNDLES.map(async ([name, file]) => {
      const text = await readFile(join(packageDir(name), file), 'utf8');
      return text.replace(/<\/script/gi, '<\\/script');
    }),
  );
  return cached;
}

/** The folder of an installed package: the first `node_modules/NAME` up from this module. */
function packageDir(name: string): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(join(candidate, 'package.json'))) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new InternalError(`the ${name} package is not installed (needed for --report)`);
    dir = up;
  }
}
