import { mkdirSync, mkdtempSync, renameSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import {
  watchBotConfigs,
  type BotConfigEvent,
  type WatchBotConfigsOptions,
} from '../../src/streams/botConfigs.js';

let root: string;
let n = 0;
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'rxtrade-watch-bots-'));
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bot = (id: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ bot_id: id, strategy: 'sma_cross', symbol: 'BTC-USDT', virtual_balance: 1000, ...extra });

/** Events of a watcher, taken one at a time in order (waiting for the next when there is none yet). */
class Events {
  private readonly queue: BotConfigEvent[] = [];
  private waiting: ((e: BotConfigEvent) => void) | undefined;
  private readonly subscription: Subscription;
  failure: unknown;

  constructor(dir: string, options: WatchBotConfigsOptions) {
    this.subscription = watchBotConfigs(dir, options).subscribe({
      next: (e) => {
        const w = this.waiting;
        this.waiting = undefined;
        if (w !== undefined) w(e);
        else this.queue.push(e);
      },
      error: (err: unknown) => (this.failure = err),
    });
  }

  take(): Promise<BotConfigEvent> {
    const e = this.queue.shift();
    if (e !== undefined) return Promise.resolve(e);
    return new Promise((resolve) => (this.waiting = resolve));
  }

  async takeMany(count: number): Promise<BotConfigEvent[]> {
    const out: BotConfigEvent[] = [];
    for (let i = 0; i < count; i++) out.push(await this.take());
    return out;
  }

  stop(): void {
    this.subscription.unsubscribe();
  }
}

/** Short summary of an event, for comparisons. */
function brief(e: BotConfigEvent): string {
  if (e.kind === 'ready') return 'ready';
  const file = e.file.slice(e.file.lastIndexOf('/') + 1);
  if (e.kind === 'config')
    return `config ${file} ${e.config.botId} ${String(e.config.parameters.fast_period)}`;
  if (e.kind === 'error') return `error ${file} ${e.botId ?? '-'}`;
  return `removed ${file} ${e.botId ?? '-'}`;
}

function folder(files: Record<string, string> = {}): string {
  const dir = join(root, `w${n++}`);
  mkdirSync(join(dir, 'bots'), { recursive: true });
  mkdirSync(join(dir, 'strategies'), { recursive: true });
  for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
  return dir;
}

describe.each([
  ['fs.watch', { debounceMs: 30, rescanMs: 0 }],
  ['rescans only (fs.watch off)', { debounceMs: 30, rescanMs: 100, fsWatch: false }],
] as const)('watchBotConfigs with %s', (_name, options) => {
  let events: Events | undefined;
  afterEach(() => events?.stop());

  it('emits every file first, then each change, a removal, and nothing for a rewrite without change', async () => {
    const dir = folder({ 'bots/a.json': bot('alpha'), 'bots/b.yaml': 'bot_id: beta\nsymbol: x\n' });
    events = new Events(dir, options);
    const first = await events.takeMany(3);
    expect(first.map(brief)).toEqual(['config a.json alpha 10', 'error b.yaml beta', 'ready']);
    expect(first.slice(0, 2).every((e) => (e.kind === 'config' || e.kind === 'error') && e.initial)).toBe(
      true,
    );

    // Same bytes again, and a new modification time: no event. The next event is the real change below.
    writeFileSync(join(dir, 'bots', 'a.json'), bot('alpha'));
    utimesSync(join(dir, 'bots', 'a.json'), new Date(), new Date(Date.now() + 5_000));
    writeFileSync(join(dir, 'bots', 'c.json'), bot('gamma', { parameters: { fast_period: 4 } }));
    const added = await events.take();
    expect(brief(added)).toBe('config c.json gamma 4');
    expect(added).toMatchObject({ initial: false });

    writeFileSync(
      join(dir, 'bots', 'b.yaml'),
      'bot_id: beta\nstrategy: sma_cross\nsymbol: ETH-USDT\nvirtual_balance: 5\n',
    );
    expect(brief(await events.take())).toBe('config b.yaml beta 10');

    rmSync(join(dir, 'bots', 'a.json'));
    expect(brief(await events.take())).toBe('removed a.json alpha');
    expect(events.failure).toBeUndefined();
  }, 20_000);

  it('reads a burst of writes once, after the quiet time: only the last content', async () => {
    const dir = folder({ 'bots/a.json': bot('alpha') });
    events = new Events(dir, options);
    await events.takeMany(2);
    for (const fast of [2, 3, 4, 5])
      writeFileSync(join(dir, 'bots', 'a.json'), bot('alpha', { parameters: { fast_period: fast } }));
    expect(brief(await events.take())).toBe('config a.json alpha 5');
    writeFileSync(join(dir, 'bots', 'z.json'), bot('zulu'));
    expect(brief(await events.take())).toBe('config z.json zulu 10');
  }, 20_000);

  it('a broken edit is an error for that bot; fixing it gives the config again', async () => {
    const dir = folder({ 'bots/a.json': bot('alpha'), 'bots/b.json': bot('beta') });
    events = new Events(dir, options);
    await events.takeMany(3);
    writeFileSync(join(dir, 'bots', 'a.json'), bot('alpha', { virtual_balance: -1 }));
    const broken = await events.take();
    expect(broken).toMatchObject({
      kind: 'error',
      botId: 'alpha',
      message: expect.stringMatching(/a\.json: virtual_balance: /) as unknown,
    });
    writeFileSync(join(dir, 'bots', 'a.json'), bot('alpha', { parameters: { fast_period: 7 } }));
    expect(brief(await events.take())).toBe('config a.json alpha 7');
  }, 20_000);

  it('a changed strategy file re-emits the bots using it', async () => {
    const dir = folder({
      'strategies/s.json': '{"strategy_name": "sma_cross", "parameters": {"fast_period": 3}}',
      'bots/a.json': JSON.stringify({
        bot_id: 'alpha',
        strategy_file: 's.json',
        symbol: 'BTC-USDT',
        virtual_balance: 1,
      }),
    });
    events = new Events(dir, options);
    expect((await events.takeMany(2)).map(brief)).toEqual(['config a.json alpha 3', 'ready']);
    writeFileSync(
      join(dir, 'strategies', 's.json'),
      '{"strategy_name": "sma_cross", "parameters": {"fast_period": 6}}',
    );
    expect(brief(await events.take())).toBe('config a.json alpha 6');
  }, 20_000);

  it('a file that now names another bot_id removes the old bot first; a rename moves the bot', async () => {
    const dir = folder({ 'bots/a.json': bot('alpha') });
    events = new Events(dir, options);
    await events.takeMany(2);
    writeFileSync(join(dir, 'bots', 'a.json'), bot('omega'));
    expect((await events.takeMany(2)).map(brief)).toEqual(['removed a.json alpha', 'config a.json omega 10']);
    renameSync(join(dir, 'bots', 'a.json'), join(dir, 'bots', 'b.json'));
    expect((await events.takeMany(2)).map(brief)).toEqual(['removed a.json omega', 'config b.json omega 10']);
  }, 20_000);

  it('a copy claiming the same bot_id makes both files errors until it is removed', async () => {
    const dir = folder({ 'bots/a.json': bot('alpha') });
    events = new Events(dir, options);
    await events.takeMany(2);
    writeFileSync(join(dir, 'bots', 'copy.json'), bot('alpha', { parameters: { fast_period: 2 } }));
    expect((await events.takeMany(2)).map(brief)).toEqual(['error a.json alpha', 'error copy.json alpha']);
    rmSync(join(dir, 'bots', 'copy.json'));
    expect((await events.takeMany(2)).map(brief)).toEqual([
      'removed copy.json alpha',
      'config a.json alpha 10',
    ]);
  }, 20_000);
});

describe('watchBotConfigs without a bots folder', () => {
  it('is ready at once with no bot, and sees the folder once it is created (rescans)', async () => {
    const dir = join(root, `w${n++}`);
    mkdirSync(dir);
    const events = new Events(dir, { debounceMs: 30, rescanMs: 100 });
    try {
      expect(brief(await events.take())).toBe('ready');
      mkdirSync(join(dir, 'bots'));
      writeFileSync(join(dir, 'bots', 'a.json'), bot('alpha'));
      const e = await events.take();
      expect(brief(e)).toBe('config a.json alpha 10');
      expect(e).toMatchObject({ initial: false });
    } finally {
      events.stop();
    }
  }, 20_000);
});
