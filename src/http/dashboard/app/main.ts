/// <reference lib="dom" />
import './style.css';
import { BacktestView } from './backtest.js';
import { BotPanel, flash } from './bots.js';
import { byId } from './dom.js';
import { Live } from './live.js';
import { MarketView } from './market.js';
import { PerformanceTable } from './performance.js';
import { SelectedBot } from './selected.js';
import { Store } from './state.js';

/**
 * The dashboard page: bot controls | the selected bot's chart, then performance, market and backtests.
 * Everything loads from the API once, then follows Socket.IO pushes; after a reconnect each view loads
 * again what it may have missed.
 */
async function main(): Promise<void> {
  const store = new Store();
  const connection = byId('connection');
  const live = new Live((connected) => {
    connection.className = `light ${connected ? 'light-active' : 'light-error'}`;
    connection.setAttribute('aria-label', connected ? 'live' : 'disconnected');
    connection.title = connected ? 'live updates connected' : 'live updates disconnected: reconnecting';
    document.body.dataset['live'] = String(connected);
  });
  const bots = new BotPanel(store, live);
  const performance = new PerformanceTable(store, live);
  new SelectedBot(store, live);
  new MarketView(store, live);
  const backtests = new BacktestView(live);
  live.swap([], ['bots']);
  // Bots, then their histories; a reconnect reloads the list (statuses may have changed meanwhile).
  const loadBots = async () => {
    await bots.load();
    await performance.load();
  };
  let connectedBefore = false;
  live.onConnect(() => {
    if (connectedBefore) void loadBots().catch(report);
    connectedBefore = true;
  });
  await Promise.all([loadBots(), backtests.load()]);
  document.body.dataset['ready'] = 'true';
}

function report(err: unknown): void {
  flash(`dashboard: ${err instanceof Error ? err.message : String(err)}`);
}

main().catch(report);
