/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { drawdownRows, drawdownSpec, equitySpec, priceChartSpec, type EquityRow } from '../specs.js';
import { ApiError, get, post, query } from './api.js';
import { Chart } from './charts.js';
import { byId, fill, fmtTime, h } from './dom.js';
import type { Live } from './live.js';
import { schemaFields, schemaValues } from './schemaForm.js';
import type {
  BacktestDone,
  BacktestItem,
  BacktestProgress,
  BacktestResult,
  HistoryColumns,
  Page,
  StoredMarket,
  StrategyInfo,
} from './types.js';

/** A pending run is also checked this often, in case its `backtest:done` was missed (never faster: 5 s). */
const PENDING_CHECK_MS = 5000;

/**
 * The backtest view: strategy, a parameter form generated from its JSON Schema, a stored market and a
 * date range inside its data, a run with a progress bar, its results (metrics, equity, fills on price)
 * and any two or more runs compared.
 */
export class BacktestView {
  private readonly form = byId<HTMLFormElement>('backtest-form');
  private readonly strategySelect = byId<HTMLSelectElement>('bt-strategy');
  private readonly marketSelect = byId<HTMLSelectElement>('bt-market');
  private readonly fromInput = byId<HTMLInputElement>('bt-from');
  private readonly toInput = byId<HTMLInputElement>('bt-to');
  private readonly params = byId('bt-params');
  private readonly progress = byId<HTMLProgressElement>('bt-progress');
  private readonly status = byId('bt-status');
  private readonly error = byId('bt-error');
  private readonly equityChart = new Chart(byId('bt-equity'));
  private readonly priceChart = new Chart(byId('bt-price'));
  private readonly drawdownChart = new Chart(byId('bt-drawdown'));
  private readonly compareChart = new Chart(byId('bt-compare-chart'));
  private readonly compareDrawdown = new Chart(byId('bt-compare-drawdown'));
  private strategies: StrategyInfo[] = [];
  private markets: StoredMarket[] = [];
  private pending: string | undefined;
  private readonly finished = new Set<string>();
  private checkTimer: number | undefined;

  constructor(private readonly live: Live) {
    live.swap([], ['backtests']);
    live.on<BacktestProgress>('backtest:progress', (m) => {
      if (m.id !== this.pending) return;
      this.progress.max = Math.max(1, m.total);
      this.progress.value = m.done;
      fill(this.status, `running: ${m.done} / ${m.total}`);
    });
    live.on<BacktestDone>('backtest:done', (m) => {
      this.finished.add(m.id);
      if (m.id === this.pending) void this.finish(m.id);
      else void this.loadRuns();
    });
    live.onConnect(() => {
      void this.loadRuns();
      if (this.pending !== undefined) void this.check(this.pending);
    });
    this.strategySelect.addEventListener('change', () => this.renderParams());
    this.marketSelect.addEventListener('change', () => this.renderRange());
    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      void this.run();
    });
    byId('bt-compare').addEventListener('click', () => void this.compare());
  }

  async load(): Promise<void> {
    const [strategies, markets] = await Promise.all([
      get<{ strategies: StrategyInfo[] }>('/api/strategies'),
      get<Page<StoredMarket>>('/api/markets'),
    ]);
    this.strategies = strategies.strategies;
    this.markets = markets.items;
    fill(
      this.strategySelect,
      ...this.strategies.map((s) => h('option', { value: s.name, title: s.description }, s.name)),
    );
    fill(
      this.marketSelect,
      ...this.markets.map((m, i) =>
        h('option', { value: i }, `${m.symbol} ${m.timeframe} · ${m.exchange} · ${m.count} candles`),
      ),
    );
    this.renderParams();
    this.renderRange();
    await this.loadRuns();
  }

  private renderParams(): void {
    const strategy = this.strategies.find((s) => s.name === this.strategySelect.value);
    fill(this.params, ...(strategy === undefined ? [] : schemaFields(strategy.parameters)));
    fill(byId('bt-description'), strategy?.description ?? '');
  }

  /** The date range is bounded by the stored data of the chosen market; it starts as the whole of it. */
  private renderRange(): void {
    const market = this.markets[Number(this.marketSelect.value)];
    if (market === undefined) return;
    for (const input of [this.fromInput, this.toInput]) {
      input.min = toLocalInput(market.fromMs);
      input.max = toLocalInput(market.toMs);
    }
    this.fromInput.value = toLocalInput(market.fromMs);
    this.toInput.value = toLocalInput(market.toMs);
    fill(byId('bt-range'), `stored: ${fmtTime(market.fromMs)} → ${fmtTime(market.toMs)} UTC`);
  }

  private async run(): Promise<void> {
    const market = this.markets[Number(this.marketSelect.value)];
    this.showError(undefined);
    if (market === undefined) return this.showError('No stored market data to test on.');
    const body = {
      strategy: this.strategySelect.value,
      parameters: schemaValues(this.params),
      symbol: market.symbol,
      exchange: market.exchange,
      timeframe: market.timeframe,
      from: fromLocalInput(this.fromInput.value),
      to: fromLocalInput(this.toInput.value),
      initial_balance: Number(byId<HTMLInputElement>('bt-balance').value),
    };
    try {
      const { id } = await post<{ id: string }>('/api/backtests', body);
      this.pending = id;
      this.progress.value = 0;
      this.progress.hidden = false;
      fill(this.status, 'running…');
      if (this.finished.has(id)) return this.finish(id);
      if (this.checkTimer !== undefined) window.clearInterval(this.checkTimer);
      this.checkTimer = window.setInterval(() => void this.check(id), PENDING_CHECK_MS);
    } catch (err) {
      if (err instanceof ApiError) this.showError(err.message, err.field);
      else this.showError(String(err));
    }
  }

  private async check(id: string): Promise<void> {
    const result = await get<BacktestResult>(`/api/backtests/${encodeURIComponent(id)}`);
    if (result.status !== 'running' && id === this.pending) await this.finish(id);
  }

  private async finish(id: string): Promise<void> {
    if (this.checkTimer !== undefined) window.clearInterval(this.checkTimer);
    this.checkTimer = undefined;
    this.pending = undefined;
    const result = await get<BacktestResult>(`/api/backtests/${encodeURIComponent(id)}`);
    this.progress.value = this.progress.max;
    fill(
      this.status,
      result.status === 'failed'
        ? `failed: ${result.error ?? 'no reason given'}`
        : `${result.status}: ${result.strategy} on ${result.symbol} ${result.timeframe}`,
    );
    await this.showResult(result);
    await this.loadRuns();
  }

  private async showResult(result: BacktestResult): Promise<void> {
    byId('bt-result').hidden = false;
    byId('bt-result').dataset['run'] = result.id;
    fill(byId('bt-metrics'), metricsTable([result]));
    fill(byId('bt-warnings'), ...(result.warnings ?? []).map((w) => h('li', {}, w)));
    const history = await get<HistoryColumns>(
      `/api/market/${encodeURIComponent(result.symbol)}/history` +
        query({ timeframe: result.timeframe, from: result.fromMs, to: result.toMs, limit: 10000 }),
    );
    const equity = equityRows(result);
    await Promise.all([
      this.equityChart.draw(equitySpec(equity, { title: 'Equity' })),
      this.drawdownChart.draw(drawdownSpec(drawdownRows(equity), { title: 'Drawdown' })),
      this.priceChart.draw(
        priceChartSpec({
          title: 'Fills on price',
          candles: history.t.map((tMs, i) => ({
            tMs,
            open: history.open[i]!,
            high: history.high[i]!,
            low: history.low[i]!,
            close: history.close[i]!,
          })),
          markers: (result.fills ?? []).map((f) => ({
            tMs: f.tMs,
            side: f.side,
            price: f.price,
            qty: f.qty,
          })),
        }),
      ),
    ]);
  }

  private async loadRuns(): Promise<void> {
    const { items } = await get<Page<BacktestItem>>('/api/backtests');
    const checked = new Set(
      [...byId('bt-runs').querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value),
    );
    fill(
      byId('bt-runs'),
      ...items.map((run) =>
        h(
          'tr',
          { 'data-run': run.id },
          h('td', {}, h('input', { type: 'checkbox', value: run.id, checked: checked.has(run.id) })),
          h('td', {}, run.strategy),
          h('td', {}, `${run.symbol} ${run.timeframe}`),
          h('td', {}, `${fmtTime(run.fromMs)} → ${fmtTime(run.toMs)}`),
          h('td', {}, run.status),
          h('td', { class: 'num' }, headline(run)),
          h(
            'td',
            {},
            h(
              'button',
              {
                type: 'button',
                onclick: () =>
                  void get<BacktestResult>(`/api/backtests/${encodeURIComponent(run.id)}`).then((r) =>
                    this.showResult(r),
                  ),
              },
              'show',
            ),
          ),
        ),
      ),
      items.length === 0 ? h('tr', {}, h('td', { colspan: 7, class: 'empty' }, 'No runs yet.')) : null,
    );
  }

  private async compare(): Promise<void> {
    const ids = [...byId('bt-runs').querySelectorAll<HTMLInputElement>('input:checked')].map((i) => i.value);
    if (ids.length < 2) return this.showError('Tick two or more runs to compare them.');
    this.showError(undefined);
    const results = await Promise.all(
      ids.map((id) => get<BacktestResult>(`/api/backtests/${encodeURIComponent(id)}`)),
    );
    byId('bt-comparison').hidden = false;
    fill(byId('bt-compare-metrics'), metricsTable(results));
    const equity = results.flatMap(equityRows);
    await Promise.all([
      this.compareChart.draw(equitySpec(equity, { title: 'Equity of the compared runs' })),
      this.compareDrawdown.draw(
        drawdownSpec(drawdownRows(equity), { title: 'Drawdown of the compared runs' }),
      ),
    ]);
  }

  private showError(message: string | undefined, field?: string): void {
    for (const el of this.form.querySelectorAll<HTMLElement>('.param-error')) el.hidden = true;
    for (const el of this.form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
    this.error.hidden = message === undefined;
    fill(this.error, message ?? '');
    if (message === undefined || field === undefined) return;
    // `parameters.fast_period` → next to that input; other fields (from, to…) → the form's own error line.
    const name = field.replace(/^parameters\./, '');
    const slot = this.form.querySelector<HTMLElement>(`[data-error-for="${CSS.escape(name)}"]`);
    const input = this.form.querySelector<HTMLElement>(`[name="${CSS.escape(name)}"]`);
    input?.setAttribute('aria-invalid', 'true');
    if (slot !== null) {
      fill(slot, message);
      slot.hidden = false;
    }
  }
}

function equityRows(result: BacktestResult): EquityRow[] {
  const run = `${result.strategy} ${result.id.slice(0, 8)}`;
  return (result.equity ?? []).map(([tMs, value]) => ({ run, tMs, value }));
}

function headline(run: BacktestItem): string {
  const m = run.metrics ?? {};
  const value = m['total_return'] ?? m['totalReturn'] ?? m['pnl'];
  return typeof value === 'number' ? formatMetric(value) : '';
}

/** A metrics table, one column per run, rows in the order the first run lists its metrics. */
function metricsTable(runs: readonly BacktestResult[]): HTMLElement {
  const keys: string[] = [];
  for (const run of runs)
    for (const key of Object.keys(run.metrics ?? {})) if (!keys.includes(key)) keys.push(key);
  return h(
    'table',
    { class: 'metrics' },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', {}, 'metric'),
        ...runs.map((r) => h('th', {}, `${r.strategy} ${r.id.slice(0, 8)}`)),
      ),
    ),
    h(
      'tbody',
      {},
      ...keys.map((key) =>
        h(
          'tr',
          { 'data-metric': key },
          h('th', {}, key),
          ...runs.map((r) => h('td', { class: 'num' }, formatMetric((r.metrics ?? {})[key]))),
        ),
      ),
    ),
  );
}

function formatMetric(value: unknown): string {
  if (typeof value === 'number') return Number.isInteger(value) ? String(value) : value.toPrecision(5);
  if (value === null || value === undefined) return '–';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** `datetime-local` inputs hold UTC here (the page says so): epoch ms ↔ `YYYY-MM-DDTHH:mm`. */
function toLocalInput(ms: number): string {
  return new Date(ms).toISOString().slice(0, 16);
}

function fromLocalInput(value: string): string {
  return value === '' ? '' : `${value}:00Z`;
}
