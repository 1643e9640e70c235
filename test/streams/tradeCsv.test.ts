import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InvalidDataError, UsageError } from '../../src/domain/errors.js';
import {
  describeDuplicates,
  readTradeCsv,
  splitCsvLine,
  symbolFromFileName,
} from '../../src/streams/tradeCsv.js';

const dir = mkdtempSync(join(tmpdir(), 'rxtrade-csv-'));
let n = 0;
function file(text: string, name = `t${++n}.csv`): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('readTradeCsv', () => {
  it('reads the recorded Binance layout, sides from taker_side, decimals from the text', async () => {
    const path = file(
      'trade_id,price,qty,taker_side,trade_time_ms,event_time_ms,local_recv_ns,buyer_is_maker\n' +
        '3735683259,61837.63000000,0.02000000,sell,1723161255342,1723161255343,1723161254087896568,true\n' +
        '3735683260,61837.64000000,0.04800000,buy,1723161255617,1723161255619,1723161254347673567,false\n',
    );
    const f = await readTradeCsv(path, { symbol: 'BTC-USDT' });
    expect(f.trades).toEqual([
      {
        symbol: 'BTC-USDT',
        tradeId: '3735683259',
        tsMs: 1723161255342,
        price: 61837.63,
        size: 0.02,
        side: 'sell',
      },
      {
        symbol: 'BTC-USDT',
        tradeId: '3735683260',
        tsMs: 1723161255617,
        price: 61837.64,
        size: 0.048,
        side: 'buy',
      },
    ]);
    expect(f).toMatchObject({
      priceDecimals: 8,
      sizeDecimals: 8,
      timeUnit: 'ms',
      reordered: false,
      symbols: ['BTC-USDT'],
    });
  });

  it('accepts the OKX names (ts, px, sz, tradeId, side, instId), CRLF line ends and a BOM', async () => {
    const path = file(
      '\uFEFFinstId,tradeId,px,sz,side,ts\r\nBTC-USDT,130639474,42219.9,0.12060306,buy,1630048897897\r\nETH-USDT,55,3000.5,1,sell,1630048897898\r\n',
    );
    const f = await readTradeCsv(path);
    expect(f.trades.map((t) => [t.symbol, t.tradeId, t.price, t.size, t.side])).toEqual([
      ['BTC-USDT', '130639474', 42219.9, 0.12060306, 'buy'],
      ['ETH-USDT', '55', 3000.5, 1, 'sell'],
    ]);
    expect(f.symbols).toEqual(['BTC-USDT', 'ETH-USDT']);
  });

  it.each([
    ['1723161255.342', 1723161255342, 's'],
    ['1723161255342', 1723161255342, 'ms'],
    ['1723161255342123', 1723161255342, 'us'],
    ['1723161255342123456', 1723161255342, 'ns'],
    ['2024-08-08T23:54:15.342Z', 1723161255342, 'iso'],
    ['2024-08-08 23:54:15.342', 1723161255342, 'iso'],
    ['2024-08-09T01:54:15.342+02:00', 1723161255342, 'iso'],
  ])('reads the time %s as %d (%s)', async (text, ms, unit) => {
    const f = await readTradeCsv(file(`timestamp,price,size\n${text},1,1\n`), { symbol: 'X' });
    expect(f.trades[0]?.tsMs).toBe(ms);
    expect(f.timeUnit).toBe(unit);
  });

  it('derives the side from buyer_is_maker, numbers the trades by line without an id column', async () => {
    const f = await readTradeCsv(
      file('time,price,qty,is_buyer_maker\n1723161255342,1,1,true\n1723161255343,1,1,False\n'),
      {
        symbol: 'X',
      },
    );
    expect(f.trades.map((t) => [t.tradeId, t.side])).toEqual([
      ['2', 'sell'],
      ['3', 'buy'],
    ]);
  });

  it('sorts rows that are not in time order (newest-first exports), ties by trade id', async () => {
    const f = await readTradeCsv(
      file('trade_id,price,qty,ts\n12,3,1,1723161255400\n10,1,1,1723161255342\n11,2,1,1723161255342\n'),
      { symbol: 'X' },
    );
    expect(f.reordered).toBe(true);
    expect(f.trades.map((t) => t.tradeId)).toEqual(['10', '11', '12']);
  });

  it('handles quoted fields', async () => {
    const f = await readTradeCsv(file('"trade_id","price","qty","ts"\n"1","100.5","2","1723161255342"\n'), {
      symbol: 'X',
    });
    expect(f.trades[0]).toMatchObject({ tradeId: '1', price: 100.5, size: 2 });
  });

  it.each([
    ['trade_id,price,qty,ts\n1,abc,1,1723161255342\n', /line 2: price "abc" is not a number/],
    [
      'trade_id,price,qty,ts\n1,1,1,1723161255342\n2,0,1,1723161255342\n',
      /line 3: price "0" is not a positive number/,
    ],
    ['trade_id,price,qty,ts\n1,-5,1,1723161255342\n', /line 2: price "-5" is not a positive number/],
    ['trade_id,price,qty,ts\n1,5,-1,1723161255342\n', /line 2: size "-1" is negative/],
    ['trade_id,price,qty,ts\n1,5,NaN,1723161255342\n', /line 2: size "NaN" is not a number/],
    ['trade_id,price,qty,ts\n1,5,1\n', /line 2: expected 4 fields, found 3/],
    ['trade_id,price,qty,ts\n1,5,1,yesterday\n', /line 2: time "yesterday" is neither/],
    [
      'trade_id,price,qty,ts\n1,5,1,1723161255342\n2,5,1,1723161255\n',
      /line 3: time "1723161255" looks like epoch s but earlier rows are epoch ms/,
    ],
    ['trade_id,price,qty,ts\n1,5,1,17231612\n', /line 2: time "17231612" is 1970-07-19T.*outside 2000–2099/],
    [
      'trade_id,price,qty,side,ts\n1,5,1,long,1723161255342\n',
      /line 2: taker side "long" is neither buy nor sell/,
    ],
    [
      'trade_id,px,ts\n1,5,1723161255342\n',
      /line 1: missing column: need size \(qty\|size\|sz\|quantity\|amount\)/,
    ],
    ['1,5,1,1723161255342\n', /line 1: no header row/],
    ['', /the file is empty/],
  ])('names the line and the problem: %j', async (text, message) => {
    const path = file(text);
    await expect(readTradeCsv(path, { symbol: 'X' })).rejects.toThrow(InvalidDataError);
    await expect(readTradeCsv(path, { symbol: 'X' })).rejects.toThrow(message);
  });

  it('drops rows repeating a symbol and trade id, keeping the first, in any row order', async () => {
    // Newest-first with a repeat (ids not monotonic any more), and a repeat with another size.
    const path = file(
      'instId,tradeId,px,sz,ts\n' +
        'BTC-USDT,3,102,1,1723161603000\nBTC-USDT,2,101,1,1723161602000\nETH-USDT,2,10,5,1723161602000\n' +
        'BTC-USDT,2,101,1,1723161602000\nBTC-USDT,1,100,1,1723161601000\nBTC-USDT,3,102,9,1723161603000\n',
    );
    const f = await readTradeCsv(path);
    expect(f.trades.map((t) => [t.symbol, t.tradeId, t.size])).toEqual([
      ['BTC-USDT', '1', 1],
      ['BTC-USDT', '2', 1],
      ['ETH-USDT', '2', 5],
      ['BTC-USDT', '3', 1],
    ]);
    expect(f.duplicates).toEqual({
      count: 2,
      differing: 1,
      first: { symbol: 'BTC-USDT', tradeId: '2', line: 5, firstLine: 3 },
    });
    expect(describeDuplicates(f.duplicates)).toBe(
      'dropped 2 duplicate trades (same symbol and trade id as an earlier row; first: line 5 repeats trade 2 of BTC-USDT from line 3); ' +
        '1 of them differs from the row repeated (time, price, size or side): the earlier row was kept',
    );
  });

  it('keeps every row of a file whose ids only grow (or only shrink) per symbol, without a note', async () => {
    const up = await readTradeCsv(
      file('trade_id,price,qty,ts\n1,1,1,1723161601000\n2,1,1,1723161601000\n10,1,1,1723161602000\n'),
      { symbol: 'X' },
    );
    expect(up.trades).toHaveLength(3);
    expect(up.duplicates).toEqual({ count: 0, differing: 0 });
    expect(describeDuplicates(up.duplicates)).toBeUndefined();
    const down = await readTradeCsv(
      file('trade_id,price,qty,ts\n10,1,1,1723161602000\n2,1,1,1723161601000\n1,1,1,1723161601000\n'),
      { symbol: 'X' },
    );
    expect(down.trades.map((t) => t.tradeId)).toEqual(['1', '2', '10']);
    expect(down.duplicates.count).toBe(0);
  });

  it('refuses a symbol option that would merge the several symbols of the symbol column', async () => {
    const path = file(
      'symbol,trade_id,price,qty,ts\nBTC-USDT,1,1,1,1723161601000\nETH-USDT,1,1,1,1723161602000\n',
    );
    await expect(readTradeCsv(path, { symbol: 'BTC-USDT' })).rejects.toThrow(
      new UsageError(
        `${path} holds trades of 2 symbols (BTC-USDT from line 2, ETH-USDT from line 3): --symbol BTC-USDT ` +
          'would label them all BTC-USDT and merge them; leave --symbol out to keep each symbol apart',
      ),
    );
    // One symbol in the column: the option relabels it.
    const one = file('symbol,trade_id,price,qty,ts\nBTCUSDT,1,1,1,1723161601000\n');
    expect((await readTradeCsv(one, { symbol: 'BTC-USDT' })).symbols).toEqual(['BTC-USDT']);
  });

  it('says at the header how to name the symbol when nothing names it', async () => {
    const path = file('trade_id,price,qty,ts\n1,1,1,1723161601000\n', 'trades.csv');
    await expect(readTradeCsv(path, { symbolHint: 'add --symbol BASE-QUOTE after it' })).rejects.toThrow(
      new UsageError(
        `cannot tell which symbol ${path} holds: it has no symbol column (symbol, instId or inst_id) and its ` +
          'name names no pair (such as …BTCUSDT… or …ETH_USDT…); add --symbol BASE-QUOTE after it',
      ),
    );
  });

  it('says clearly when the file cannot be read', async () => {
    await expect(readTradeCsv(join(dir, 'missing.csv'))).rejects.toThrow(UsageError);
    await expect(readTradeCsv(join(dir, 'missing.csv'))).rejects.toThrow(
      /cannot read trades file .*missing.csv: no such file/,
    );
    await expect(readTradeCsv(dir)).rejects.toThrow(/it is a directory/);
  });
});

describe('symbolFromFileName', () => {
  it.each([
    ['data/binance_spot_BTCUSDT_trades_20240808T2354_20240809T0005.csv', 'BTC-USDT'],
    ['trades_ethusdt_usdm.csv', 'ETH-USDT'],
    ['trades_xrpeth.csv', 'XRP-ETH'],
    ['BTC-USDT.csv', 'BTC-USDT'],
    ['SOL-USDC-2024.csv', 'SOL-USDC'],
    ['BTC_USDT-1m.csv', 'BTC-USDT'],
    ['tooyipjee__ETH_BTC-1d.csv', 'ETH-BTC'],
    ['candles_btc.csv', undefined],
    ['daily_eth_usdt.csv', undefined],
    ['binance_spot_eth_trades.csv', undefined],
    ['trades.csv', undefined],
  ])('%s → %s', (path, symbol) => {
    expect(symbolFromFileName(path)).toBe(symbol);
  });
});

describe('splitCsvLine', () => {
  it('splits with quotes and doubled quotes', () => {
    expect(splitCsvLine('a,"b,c","d""e",')).toEqual(['a', 'b,c', 'd"e', '']);
  });
});
