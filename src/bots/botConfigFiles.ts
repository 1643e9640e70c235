import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { RxtradeError, UsageError } from '../domain/errors.js';
import { defaultStrategyRegistry, type StrategyRegistry } from '../strategies/registry.js';
import {
  botIdOf,
  parseBotFileText,
  strategyFileRef,
  validateBotFile,
  type BotConfig,
  type StrategyFileText,
} from './botConfig.js';

/** A bot file that could not be used. The other bots run; this one is put in `error` with `message`. */
export interface BotConfigError {
  readonly kind: 'error';
  readonly file: string;
  /** The file's `bot_id`, when it could be read (so the bot it meant can be marked). */
  readonly botId?: string;
  /** One line naming the file and the key: `config/bots/x.json: virtual_balance: …`. */
  readonly message: string;
}

export interface BotConfigLoaded {
  readonly kind: 'config';
  readonly file: string;
  readonly config: BotConfig;
}

/** What one bot file gave. */
export type BotConfigResult = BotConfigLoaded | BotConfigError;

/** Bot files are `*.json`, `*.yaml` and `*.yml` directly in `<configDir>/bots` (hidden files are skipped). */
export const BOT_FILE_PATTERN = /^[^.].*\.(json|ya?ml)$/i;

export function botsFolder(configDir: string): string {
  return join(configDir, 'bots');
}

export function strategiesFolder(configDir: string): string {
  return join(configDir, 'strategies');
}

/**
 * Loads every bot file of `<configDir>/bots`, in file-name order: per file a valid frozen BotConfig or an
 * error record. Never throws for a bad file (nor for a missing folder: no bots then). Two files with the
 * same `bot_id` are both errors, each naming the other.
 */
export async function loadBotConfigs(
  configDir: string,
  registry: StrategyRegistry = defaultStrategyRegistry(),
): Promise<BotConfigResult[]> {
  const files = await listBotFiles(configDir);
  const results: BotConfigResult[] = [];
  for (const file of files) results.push(await loadBotConfigFile(file, configDir, registry));
  return markDuplicates(results);
}

/** The bot files of `<configDir>/bots`, sorted; empty when the folder does not exist. */
export async function listBotFiles(configDir: string): Promise<string[]> {
  const dir = botsFolder(configDir);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if (isMissing(err)) return [];
    throw new RxtradeError('config_unreadable', `${dir}: cannot list bot files: ${(err as Error).message}`, {
      cause: err,
    });
  }
  const files: string[] = [];
  for (const name of names.filter((n) => BOT_FILE_PATTERN.test(n)).sort()) {
    const path = join(dir, name);
    // A folder named x.json, or a file deleted since readdir, is not a bot file.
    const isFile = await stat(path).then(
      (s) => s.isFile(),
      () => false,
    );
    if (isFile) files.push(path);
  }
  return files;
}

/** Reads and validates one bot file (and the strategy file it names); never throws. */
export async function loadBotConfigFile(
  file: string,
  configDir: string,
  registry: StrategyRegistry = defaultStrategyRegistry(),
): Promise<BotConfigResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    return { kind: 'error', file, message: `${file}: cannot read it: ${(err as Error).message}` };
  }
  let data: unknown;
  try {
    data = await parseBotFileText(text, file);
  } catch (err) {
    return { kind: 'error', file, message: (err as Error).message };
  }
  const botId = botIdOf(data);
  try {
    const ref = strategyFileRef(data);
    const strategyFile = ref === undefined ? undefined : await resolveStrategyFile(ref, file, configDir);
    const config = validateBotFile(data, {
      source: file,
      text,
      registry,
      ...(strategyFile !== undefined ? { strategyFile } : {}),
    });
    return { kind: 'config', file, config };
  } catch (err) {
    // Anything else than a RxtradeError is a bug; it still only stops this bot.
    const message =
      err instanceof RxtradeError ? err.message : `${file}: internal error: ${(err as Error).message}`;
    return { kind: 'error', file, ...(botId !== undefined ? { botId } : {}), message };
  }
}

/**
 * Finds and reads the strategy file a bot file names: `ref` is relative to the bot file's folder or, failing
 * that, to `<configDir>/strategies`. A path leading outside the config folder (`..`, an absolute path, a
 * symbolic link pointing out) is refused, so a bot file can only reach configuration.
 */
export async function resolveStrategyFile(
  ref: string,
  botFile: string,
  configDir: string,
): Promise<StrategyFileText> {
  if (isAbsolute(ref)) {
    throw new UsageError(
      `${botFile}: strategy_file "${ref}" must be a relative path (to ${strategiesFolder(configDir)} or to the bot file)`,
    );
  }
  const root = resolve(configDir);
  const realRoot = await realpath(root).catch(() => root);
  const candidates = [resolve(dirname(botFile), ref), resolve(strategiesFolder(configDir), ref)];
  let outside = false;
  for (const candidate of candidates) {
    if (!within(root, candidate)) {
      outside = true;
      continue;
    }
    const real = await realpath(candidate).catch(() => undefined);
    if (real === undefined) continue;
    if (!within(realRoot, real)) {
      outside = true;
      continue;
    }
    try {
      return { path: relativeLike(configDir, root, candidate), text: await readFile(real, 'utf8') };
    } catch (err) {
      throw new UsageError(`${botFile}: strategy_file "${ref}": cannot read it: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
  throw new UsageError(
    outside
      ? `${botFile}: strategy_file "${ref}" leads outside the config folder ${configDir}`
      : `${botFile}: strategy_file "${ref}": no such file (looked in ${dirname(botFile)} and ${strategiesFolder(configDir)})`,
  );
}

/** Two files claiming one bot_id: both become errors naming the other (neither is run). */
function markDuplicates(results: BotConfigResult[]): BotConfigResult[] {
  const byId = new Map<string, string[]>();
  for (const r of results) {
    const id = r.kind === 'config' ? r.config.botId : r.botId;
    if (id !== undefined) byId.set(id, [...(byId.get(id) ?? []), r.file]);
  }
  return results.map((r) => {
    const id = r.kind === 'config' ? r.config.botId : r.botId;
    const files = id === undefined ? [] : (byId.get(id) ?? []);
    if (id === undefined || files.length < 2) return r;
    const others = files.filter((f) => f !== r.file).join(', ');
    return {
      kind: 'error',
      file: r.file,
      botId: id,
      message: `${r.file}: bot_id "${id}" is also used by ${others} (each bot needs its own bot_id)`,
    };
  });
}

function within(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel !== '' && !rel.startsWith(`..${sep}`) && rel !== '..' && !isAbsolute(rel);
}

/** The candidate spelled from `configDir` as the user gave it (`config/strategies/x.json`), for messages. */
function relativeLike(configDir: string, root: string, path: string): string {
  return join(configDir, relative(root, path));
}

function isMissing(err: unknown): boolean {
  return (
    (err as NodeJS.ErrnoException).code === 'ENOENT' || (err as NodeJS.ErrnoException).code === 'ENOTDIR'
  );
}
