/// <reference lib="dom" />
import { ApiError, get, post, put } from './api.js';
import { byId, fill, fmtMoney, h, signClass } from './dom.js';
import type { Live } from './live.js';
import type { Store } from './state.js';
import type { BotView, StatusMessage } from './types.js';

type Action = 'start' | 'stop' | 'pause' | 'resume';

/** Which actions a bot in this status accepts (the API answers 409 to the others). */
const ALLOWED: Record<BotView['status'], readonly Action[]> = {
  active: ['stop', 'pause'],
  paused: ['resume', 'stop'],
  inactive: ['start'],
  error: ['start'],
};

/**
 * The bot controls: one row per bot with its status light and start/stop/pause/resume, a "new bot" button
 * and the JSON config editor, whose validation errors (the API's 400 `details.field`) are shown in place.
 */
export class BotPanel {
  private readonly list = byId('bot-list');
  private readonly editor = byId<HTMLFormElement>('config-editor');
  private readonly text = byId<HTMLTextAreaElement>('config-text');
  private readonly error = byId('config-error');
  private readonly title = byId('config-title');
  private mode: { kind: 'edit'; botId: string } | { kind: 'create' } | undefined;

  constructor(
    private readonly store: Store,
    live: Live,
  ) {
    store.addEventListener('bots', () => this.render());
    store.addEventListener('select', () => this.render());
    live.on<StatusMessage>('status', (m) =>
      store.patchBot(m.botId, { status: m.status, statusMessage: m.message }),
    );
    byId('bot-new').addEventListener('click', () => this.openCreate());
    byId('config-cancel').addEventListener('click', () => this.close());
    this.editor.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.save();
    });
    this.text.addEventListener('input', () => this.showError(undefined));
  }

  async load(): Promise<void> {
    const { bots } = await get<{ bots: BotView[] }>('/api/bots');
    this.store.setBots(bots);
  }

  private render(): void {
    const rows = [...this.store.bots.values()].sort((a, b) => a.botKey.localeCompare(b.botKey));
    fill(
      this.list,
      ...rows.map((bot) => this.row(bot)),
      rows.length === 0 ? h('li', { class: 'empty' }, 'No bots yet: create one.') : null,
    );
  }

  private row(bot: BotView): HTMLElement {
    const allowed = ALLOWED[bot.status];
    const button = (action: Action) =>
      h(
        'button',
        {
          type: 'button',
          class: `act act-${action}`,
          'data-action': action,
          disabled: !allowed.includes(action),
          onclick: (event) => {
            event.stopPropagation();
            void this.act(bot.botKey, action);
          },
        },
        action,
      );
    return h(
      'li',
      {
        class: `bot${bot.botKey === this.store.selected ? ' selected' : ''}`,
        'data-bot': bot.botKey,
        'data-status': bot.status,
        onclick: () => this.store.select(bot.botKey),
      },
      h('span', {
        class: `light light-${bot.status}`,
        role: 'img',
        'aria-label': bot.status,
        title: bot.statusMessage === undefined ? bot.status : `${bot.status}: ${bot.statusMessage}`,
      }),
      h(
        'span',
        { class: 'bot-name' },
        h('strong', {}, bot.botKey),
        h('small', {}, ` ${bot.strategyName} · ${bot.symbol} ${bot.timeframe}`),
      ),
      h('span', { class: `bot-pnl ${signClass(bot.pnl)}` }, fmtMoney(bot.pnl)),
      h(
        'span',
        { class: 'bot-actions' },
        ...(['start', 'stop', 'pause', 'resume'] as const).map(button),
        h(
          'button',
          {
            type: 'button',
            class: 'act act-edit',
            onclick: (event) => {
              event.stopPropagation();
              this.openEdit(bot);
            },
          },
          'config',
        ),
      ),
      bot.status === 'error' && bot.statusMessage !== undefined
        ? h('div', { class: 'bot-message' }, bot.statusMessage)
        : null,
    );
  }

  private async act(botId: string, action: Action): Promise<void> {
    try {
      this.store.putBot(await post<BotView>(`/api/bots/${encodeURIComponent(botId)}/${action}`));
    } catch (err) {
      flash(err instanceof ApiError ? `${action} ${botId}: ${err.message}` : String(err));
    }
  }

  private openEdit(bot: BotView): void {
    this.mode = { kind: 'edit', botId: bot.botKey };
    fill(this.title, `Config of ${bot.botKey}`);
    this.open(bot.config);
  }

  private openCreate(): void {
    this.mode = { kind: 'create' };
    fill(this.title, 'New bot');
    const base = this.store.selected === undefined ? undefined : this.store.bots.get(this.store.selected);
    const template =
      base !== undefined && typeof base.config === 'object' && base.config !== null
        ? { ...(base.config as Record<string, unknown>), bot_id: `${base.botKey}-2`, enabled: false }
        : {
            bot_id: 'my-bot',
            strategy: 'EMA_Crossover',
            symbol: 'BTC-USDT',
            timeframe: '1m',
            virtual_balance: 10000,
            enabled: false,
            parameters: {},
          };
    this.open(template);
  }

  private open(document: unknown): void {
    this.text.value = JSON.stringify(document, null, 2);
    this.showError(undefined);
    this.editor.hidden = false;
    this.text.focus();
  }

  private close(): void {
    this.editor.hidden = true;
    this.mode = undefined;
  }

  private async save(): Promise<void> {
    const mode = this.mode;
    if (mode === undefined) return;
    let document: unknown;
    try {
      document = JSON.parse(this.text.value);
    } catch (err) {
      this.showError(`Not valid JSON: ${(err as Error).message}`);
      return;
    }
    try {
      const bot =
        mode.kind === 'edit'
          ? await put<BotView>(`/api/bots/${encodeURIComponent(mode.botId)}/config`, document)
          : await post<BotView>('/api/bots', document);
      this.store.putBot(bot);
      this.store.select(bot.botKey);
      this.close();
    } catch (err) {
      if (err instanceof ApiError) this.showError(err.message, err.field);
      else this.showError(String(err));
    }
  }

  /** Shows an error under the editor and selects the offending key in the JSON text. */
  private showError(message: string | undefined, field?: string): void {
    this.text.classList.toggle('invalid', message !== undefined);
    this.text.setAttribute('aria-invalid', String(message !== undefined));
    if (message === undefined) {
      fill(this.error);
      this.error.hidden = true;
      return;
    }
    fill(
      this.error,
      field === undefined ? null : h('code', { class: 'field' }, field),
      field === undefined ? null : ' ',
      message,
    );
    this.error.hidden = false;
    if (field !== undefined) {
      const range = keyRange(this.text.value, field);
      if (range !== undefined) {
        this.text.focus();
        this.text.setSelectionRange(range[0], range[1]);
      }
    }
  }
}

/** Where the last key of a dotted path (`risk.sizing.type`) stands in JSON text, searching in path order. */
export function keyRange(text: string, field: string): [number, number] | undefined {
  let at = 0;
  let found: [number, number] | undefined;
  for (const part of field.split('.')) {
    if (/^\d+$/.test(part)) continue;
    const index = text.indexOf(JSON.stringify(part), at);
    if (index < 0) return found;
    found = [index, index + part.length + 2];
    at = found[1];
  }
  return found;
}

/** A transient message at the top of the page (a refused action). */
export function flash(message: string): void {
  const box = byId('flash');
  fill(box, message);
  box.hidden = false;
  window.setTimeout(() => {
    box.hidden = true;
  }, 6000);
}
