import { PassThrough } from 'node:stream';
import type { Candle } from '../../src/domain/candle.js';
import { CandleWriter, fixed, type Precision } from '../../src/sinks/candleWriter.js';

const candle = (over: Partial<Candle> = {}): Candle => ({
  symbol: 'BTC-USDT',
  timeframe: '1m',
  closeTimeMs: 1723161300000,
  open: 61837.63,
  high: 61855.37,
  low: 61824,
  close: 61828,
  volume: 0.1 + 0.2,
  tradesCount: 2,
  closed: true,
  revision: 0,
  ...over,
});

async function written(
  format: 'csv' | 'json',
  candles: Candle[],
  precision: Precision | 'exact' = { price: 8, volume: 8 },
): Promise<string> {
  const out = new PassThrough();
  const chunks: Buffer[] = [];
  out.on('data', (b: Buffer) => chunks.push(b));
  const w = new CandleWriter(out, format, precision === 'exact' ? undefined : precision);
  for (const c of candles) w.write(c);
  await w.end();
  return Buffer.concat(chunks).toString('utf8');
}

describe('fixed', () => {
  it.each([
    [0.30000000000000004, 8, '0.3'],
    [61837.63, 8, '61837.63'],
    [61824, 8, '61824'],
    [1e-7, 8, '0.0000001'],
    [1e-9, 8, '0'],
    [12345678.123456789, 4, '12345678.1235'],
    [5, 0, '5'],
  ])('fixed(%d, %d) = %s', (x, d, s) => {
    expect(fixed(x, d)).toBe(s);
  });
});

describe('CandleWriter', () => {
  it('writes CSV with the header and rounded sums', async () => {
    expect(await written('csv', [candle()])).toBe(
      'symbol,timeframe,close_time_ms,close_time,open,high,low,close,volume,trades_count\n' +
        'BTC-USDT,1m,1723161300000,2024-08-08T23:55:00.000Z,61837.63,61855.37,61824,61828,0.3,2\n',
    );
  });

  it('writes one JSON array with the same keys', async () => {
    const parsed = JSON.parse(await written('json', [candle(), candle({ timeframe: '5m' })])) as unknown[];
    expect(parsed).toEqual([
      {
        symbol: 'BTC-USDT',
        timeframe: '1m',
        close_time_ms: 1723161300000,
        close_time: '2024-08-08T23:55:00.000Z',
        open: 61837.63,
        high: 61855.37,
        low: 61824,
        close: 61828,
        volume: 0.3,
        trades_count: 2,
      },
      expect.objectContaining({ timeframe: '5m' }),
    ]);
    expect(JSON.parse(await written('json', []))).toEqual([]);
  });

  it('without a precision prints every number exactly, never in exponent notation (a PEPE-like pair)', async () => {
    const pepe = candle({
      symbol: 'PEPE-USDT',
      open: 0.000012345678,
      high: 0.000012345679,
      low: 1e-12,
      close: 1.2e-7,
      volume: Number('123456789012.345678'),
    });
    expect((await written('csv', [pepe, candle({ volume: 1e21 })], 'exact')).split('\n').slice(1)).toEqual([
      'PEPE-USDT,1m,1723161300000,2024-08-08T23:55:00.000Z,0.000012345678,0.000012345679,0.000000000001,0.00000012,123456789012.34567,2',
      'BTC-USDT,1m,1723161300000,2024-08-08T23:55:00.000Z,61837.63,61855.37,61824,61828,1000000000000000000000,2',
      '',
    ]);
    const [json] = JSON.parse(await written('json', [pepe], 'exact')) as Record<string, number>[];
    expect(json).toMatchObject({ open: pepe.open, low: 1e-12, close: 1.2e-7, volume: pepe.volume });
  });

  it('flushes large outputs in chunks without losing rows', async () => {
    const many = Array.from({ length: 5000 }, (_, i) => candle({ closeTimeMs: 1723161300000 + i * 60000 }));
    const text = await written('csv', many);
    expect(text.trim().split('\n')).toHaveLength(5001);
  });
});
