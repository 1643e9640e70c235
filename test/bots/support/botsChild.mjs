// A bots process for the kill -9 tests (run with node, on the built dist/): the feed of a collector — each
// candle stored in market_data, then published — and the bots of a config folder on it, via startInstance.
// Candles come from a JSON file; a restart resumes the feed of each symbol after its newest stored candle, as the demo's
// simulator does. Prints `candle <n>` after each candle and `done` once every bot has committed them all.
//
// Environment: CANDLES (JSON file of Candle[], time order), CONFIG_DIR, EXCHANGE, and DATABASE_URL or
// PGLITE (a folder); with REDIS_URL (+ CHANNEL_PREFIX) candles travel on Redis (market:{symbol}) and the
// bots read them from there, as with a collector in another process; without it, in-process.
import { readFileSync } from 'node:fs';
import { Subject } from 'rxjs';
import { startInstance } from '../../../dist/src/app/instance.js';
import { candleMessage, marketChannel } from '../../../dist/src/bus/messages.js';
import { createBus } from '../../../dist/src/bus/createBus.js';
import { CandleStore } from '../../../dist/src/storage/candleStore.js';
import { openDatabase } from '../../../dist/src/storage/database.js';
import { migrate } from '../../../dist/src/storage/migrate.js';

const env = process.env;
const candles = JSON.parse(readFileSync(env.CANDLES, 'utf8'));
const db = await openDatabase(env.DATABASE_URL ? { url: env.DATABASE_URL } : { pglitePath: env.PGLITE });
await migrate(db);
const bus = createBus({ redisUrl: env.REDIS_URL, channelPrefix: env.CHANNEL_PREFIX });
const store = new CandleStore(db, env.EXCHANGE);
const market = new Subject();
const viaRedis = Boolean(env.REDIS_URL);
const instance = await startInstance({
  db,
  bus,
  exchange: env.EXCHANGE,
  configDir: env.CONFIG_DIR,
  // In-process: a stand-in for the collector (startInstance only reads its candles$).
  ...(viaRedis ? {} : { collector: { candles$: market.asObservable() } }),
});
if (viaRedis) await new Promise((r) => setTimeout(r, 500)); // the Redis subscriptions are live

// Per symbol, as the collector resumes: the kill may land between two symbols' candles of one minute.
const rows = await db.query(
  `SELECT symbol, (extract(epoch from max(timestamp)) * 1000)::bigint AS ms FROM market_data
    WHERE exchange = $1 AND timeframe = '1m' GROUP BY symbol`,
  [env.EXCHANGE],
);
const newest = new Map(rows.map((r) => [r.symbol, Number(r.ms)]));
let n = 0;
for (const c of candles) {
  n++;
  if (c.closeTimeMs <= (newest.get(c.symbol) ?? -Infinity)) continue;
  await store.upsert([c]);
  if (viaRedis) await bus.publish(marketChannel(c.symbol), candleMessage(c));
  else market.next(c);
  process.stdout.write(`candle ${n}\n`);
  await new Promise((r) => setTimeout(r, 15));
}
await new Promise((r) => setTimeout(r, 300));
await instance.bots.settled();
process.stdout.write('done\n');
await instance.close();
await bus.close();
await db.close();
