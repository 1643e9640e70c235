import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../cli/packageRoot.js';

/**
 * Which scanner config a command reads: the one given (`--config`, `--scanner-config`), else
 * `<config dir>/scanner.yaml`, else — when the config folder has none, as for a user running from another
 * folder — the defaults shipped with rxtrade (`config/scanner.yaml` of the package), with a note saying so.
 */
export function chooseScannerConfig(
  given: string | undefined,
  configDir: string,
): { readonly path: string; readonly note?: string } {
  if (given !== undefined) return { path: given };
  const path = join(configDir, 'scanner.yaml');
  if (existsSync(path)) return { path };
  const shipped = join(packageRoot(), 'config', 'scanner.yaml');
  if (!existsSync(shipped)) return { path };
  return { path: shipped, note: `no scanner.yaml in ${configDir}: using the shipped defaults ${shipped}` };
}
