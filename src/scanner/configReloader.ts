import { readFile } from 'node:fs/promises';
import type { Logger } from '../infra/logger.js';
import { parseScannerYaml, type ScannerConfig } from './config.js';

export interface ConfigReloaderOptions {
  readonly path: string;
  /** How often the file is read again, ms. Default 1000. */
  readonly pollMs?: number;
  readonly logger: Logger;
  /** A new valid version: stored and applied by the caller (awaited before the next check). */
  readonly onApply: (config: ScannerConfig, text: string, version: number) => Promise<void>;
}

/**
 * Reloads the scanner's YAML file without a restart. The file is read every `pollMs` (polling survives
 * editors that replace the file, and needs no fs.watch support); when its text changed it is parsed: a
 * valid version is applied (`onApply`, version 2, 3, …), an invalid one is refused with a warning naming
 * the key, and the version before keeps running. A file that cannot be read is refused the same way.
 */
export class ConfigReloader {
  private timer: NodeJS.Timeout | undefined;
  private lastText: string;
  private checking: Promise<boolean> | undefined;
  version: number;

  constructor(
    private readonly options: ConfigReloaderOptions,
    /** The text of the version applied at start (version 1). */
    initialText: string,
  ) {
    this.lastText = initialText;
    this.version = 1;
  }

  start(): void {
    this.timer = setInterval(() => {
      this.checking ??= this.check().finally(() => {
        this.checking = undefined;
      });
    }, this.options.pollMs ?? 1000);
  }

  async stop(): Promise<void> {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  /** Reads the file once; true when a new version was applied. */
  async check(): Promise<boolean> {
    const { path, logger } = this.options;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      if (this.lastText !== '')
        logger.warn(
          { path },
          `scanner config: cannot read ${path} (${(err as Error).message}); keeping version ${this.version}`,
        );
      this.lastText = '';
      return false;
    }
    if (text === this.lastText) return false;
    this.lastText = text;
    let config: ScannerConfig;
    try {
      config = parseScannerYaml(text, path);
    } catch (err) {
      logger.warn(
        { path },
        `scanner config refused, keeping version ${this.version}: ${(err as Error).message}`,
      );
      return false;
    }
    const version = this.version + 1;
    await this.options.onApply(config, text, version);
    this.version = version;
    logger.info({ path, version }, `scanner config version ${version} applied`);
    return true;
  }
}
