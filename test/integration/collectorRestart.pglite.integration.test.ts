import { jest } from '@jest/globals';
import { freshPglite } from '../storage/support/databases.js';
import { describeCollectorRestart } from './support/collectorRestart.js';

/** The collector restart across a 5-minute boundary (test/integration/support/collectorRestart.ts) on PGlite. */
jest.setTimeout(240_000);

describeCollectorRestart('PGlite', freshPglite);
