import { statSync, watch, type FSWatcher } from 'node:fs';
import {
  asyncScheduler,
  concat,
  concatMap,
  debounceTime,
  EMPTY,
  from,
  interval,
  merge,
  Observable,
  of,
  Subject,
  type SchedulerLike,
} from 'rxjs';
import type { BotConfig } from '../bots/botConfig.js';
import {
  botsFolder,
  loadBotConfigs,
  strategiesFolder,
  type BotConfigResult,
} from '../bots/botConfigFiles.js';
import { defaultStrategyRegistry, type StrategyRegistry } from '../strategies/registry.js';

/** What changed in the config folder, per bot file. */
export type BotConfigEvent =
  /** The file is valid: its (new) configuration. */
  | { readonly kind: 'config'; readonly file: string; readonly config: BotConfig; readonly initial: boolean }
  /** The file cannot be used (the bot it names, if readable, goes to `error`). */
  | {
      readonly kind: 'error';
      readonly file: string;
      readonly botId?: string;
      readonly message: string;
      readonly initial: boolean;
    }
  /**
   * The file is gone, or now names another bot_id: `botId` is the one it named before (undefined when it
   * had none readable).
   */
  | { readonly kind: 'removed'; readonly file: string; readonly botId?: string }
  /** Once, after the initial events: the folder has been read completely (bots without a file can go). */
  | { readonly kind: 'ready' };

export interface WatchBotConfigsOptions {
  /** Times the debounce and the rescans (default asyncScheduler). */
  readonly scheduler?: SchedulerLike;
  /** Quiet time after a file-system event before the folder is read again (default 250 ms). */
  readonly debounceMs?: number;
  /**
   * Full rescan period (default 5 s; 0: none): fs.watch misses events on some file systems (network and
   * container mounts), and cannot see a folder created after the start.
   */
  readonly rescanMs?: number;
  /** Use fs.watch at all (default true); off, only the rescans see changes. */
  readonly fsWatch?: boolean;
  readonly registry?: StrategyRegistry;
}

/**
 * The bot files of `<configDir>/bots` as a stream of changes: first every file as it is (`initial: true`)
 * and one `ready`, then, for each file whose content changes, its new configuration or its error, and a `removed` for a file
 * deleted (or naming another bot_id). Changes are compared by content hash (the bot file's and its strategy
 * file's), so touching or rewriting a file unchanged emits nothing; a burst of writes is read once, after
 * `debounceMs` of quiet. Removals come before the other events of one reading.
 *
 * It reads files, so it lives in src/streams. It watches `bots/` and `strategies/` with fs.watch and also
 * reads the folder every `rescanMs`. Never completes; errors only when the bots folder exists but cannot
 * be listed.
 *
 * ```ts
 * watchBotConfigs('./config').subscribe((e) => {
 *   if (e.kind === 'config') manager.apply(e.config); // restart the bot with it (or start it)
 *   else if (e.kind === 'error') manager.fail(e.botId, e.message);
 *   else if (e.kind === 'removed') manager.forget(e.botId);
 *   else manager.stopBotsWithoutFile(); // 'ready'
 * });
 * ```
 */
export function watchBotConfigs(
  configDir: string,
  options: WatchBotConfigsOptions = {},
): Observable<BotConfigEvent> {
  const scheduler = options.scheduler ?? asyncScheduler;
  const debounceMs = options.debounceMs ?? 250;
  const rescanMs = options.rescanMs ?? 5_000;
  const useFsWatch = options.fsWatch ?? true;
  const registry = options.registry ?? defaultStrategyRegistry();

  return new Observable<BotConfigEvent>((subscriber) => {
    const known = new Map<string, { readonly signature: string; readonly botId?: string }>();
    const touched = new Subject<void>();
    const watchers = new Map<string, { watcher: FSWatcher; ino: number }>();
    let initial = true;
    // A reading still in flight at teardown must not start watchers afterwards (they would keep the process
    // alive: `rxtrade start` then needed the 2 s watchdog to exit).
    let closed = false;

    /** (Re)starts fs.watch on each folder that exists and is not watched yet (or was replaced). */
    const watchFolders = (): void => {
      if (!useFsWatch) return;
      for (const dir of [botsFolder(configDir), strategiesFolder(configDir)]) {
        const ino = inodeOf(dir);
        const current = watchers.get(dir);
        if (current !== undefined && current.ino === ino) continue;
        current?.watcher.close();
        watchers.delete(dir);
        if (ino === undefined) continue;
        try {
          const watcher = watch(dir, () => touched.next());
          // Folder deleted, too many watches…: the rescans carry on, and retry the watch.
          watcher.on('error', () => {
            watcher.close();
            if (watchers.get(dir)?.watcher === watcher) watchers.delete(dir);
          });
          watchers.set(dir, { watcher, ino });
        } catch {
          // Same: the rescans see the changes.
        }
      }
    };

    const read = async (): Promise<void> => {
      const results = await loadBotConfigs(configDir, registry);
      if (closed) return;
      watchFolders();
      for (const e of diff(known, results, initial)) subscriber.next(e);
      if (initial) subscriber.next({ kind: 'ready' });
      initial = false;
    };

    const triggers = merge(
      touched.pipe(debounceTime(debounceMs, scheduler)),
      rescanMs > 0 ? interval(rescanMs, scheduler) : EMPTY,
    );
    // One reading at a time, in order; a trigger during a reading queues one more.
    const subscription = concat(of(undefined), triggers)
      .pipe(concatMap(() => from(read())))
      .subscribe({ error: (err: unknown) => subscriber.error(err) });

    return () => {
      closed = true;
      subscription.unsubscribe();
      for (const { watcher } of watchers.values()) watcher.close();
      watchers.clear();
    };
  });
}

/** The events that turn `known` into `results` (and updates `known`). */
function diff(
  known: Map<string, { readonly signature: string; readonly botId?: string }>,
  results: readonly BotConfigResult[],
  initial: boolean,
): BotConfigEvent[] {
  const removals: BotConfigEvent[] = [];
  const updates: BotConfigEvent[] = [];
  const seen = new Set<string>();
  for (const r of results) {
    seen.add(r.file);
    const botId = r.kind === 'config' ? r.config.botId : r.botId;
    const signature = r.kind === 'config' ? `config:${r.config.contentHash}` : `error:${r.message}`;
    const before = known.get(r.file);
    if (before?.signature === signature) continue;
    if (before?.botId !== undefined && before.botId !== botId) {
      removals.push({ kind: 'removed', file: r.file, botId: before.botId });
    }
    known.set(r.file, { signature, ...(botId !== undefined ? { botId } : {}) });
    updates.push({ ...r, initial });
  }
  for (const [file, before] of known) {
    if (seen.has(file)) continue;
    known.delete(file);
    removals.push({ kind: 'removed', file, ...(before.botId !== undefined ? { botId: before.botId } : {}) });
  }
  return [...removals, ...updates];
}

function inodeOf(dir: string): number | undefined {
  try {
    const s = statSync(dir);
    return s.isDirectory() ? s.ino : undefined;
  } catch {
    return undefined;
  }
}
