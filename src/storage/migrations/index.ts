import { initial } from './001_initial.js';
import { rawTradesUnique } from './002_raw_trades_unique.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/** Every migration, in the order they apply. Append new ones here. */
export const MIGRATIONS: readonly Migration[] = [initial, rawTradesUnique];
