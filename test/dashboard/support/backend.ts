import type { BusMessage } from '../../../src/bus/messages.js';
import { startFixtureBackend } from './fixtureApi.js';

/** What the browser tests need from a running API: its URL, a way to push bus messages, and a stop. */
export interface DashboardBackend {
  readonly url: string;
  /** Publishes a message as the bots and the feed would; the API bridges it to Socket.IO. */
  push(message: BusMessage): Promise<void>;
  close(): Promise<void>;
}

/**
 * The API dashboard.test.ts runs against: the fixture stand-in (fixtureApi.ts), which seeds fills,
 * signals and account history the real twin cannot. dashboard.real.test.ts runs the page against the real
 * `createHttpApp` (realApi.ts: `startRealBackend`); returning that here swaps the backend of these tests.
 */
export function startBackend(): Promise<DashboardBackend> {
  return startFixtureBackend();
}
