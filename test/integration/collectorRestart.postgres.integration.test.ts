import { jest } from '@jest/globals';
import { freshPostgres } from '../storage/support/databases.js';
import { describeCollectorRestart } from './support/collectorRestart.js';

/** The collector restart across a 5-minute boundary (test/integration/support/collectorRestart.ts) on Postgres. */
jest.setTimeout(240_000);

describeCollectorRestart('Postgres', freshPostgres);
