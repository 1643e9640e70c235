import { spillKey } from '../../src/app/collector.js';

describe('spillKey', () => {
  it('names the spill file by exchange and symbol set, whatever the order or repeats', () => {
    expect(spillKey('okx', ['ETH-USDT', 'BTC-USDT'])).toBe('okx-BTC-USDT_ETH-USDT');
    expect(spillKey('okx', ['BTC-USDT', 'ETH-USDT', 'BTC-USDT'])).toBe('okx-BTC-USDT_ETH-USDT');
    expect(spillKey('okx-sim', ['BTC-USDT'])).not.toBe(spillKey('okx', ['BTC-USDT']));
    expect(spillKey('okx', ['BTC-USDT'])).not.toBe(spillKey('okx', ['ETH-USDT']));
  });

  it('hashes long symbol sets into a short, stable, file-safe name', () => {
    const many = Array.from({ length: 40 }, (_, i) => `COIN${i}-USDT`);
    const key = spillKey('okx', many);
    expect(key).toMatch(/^okx-[0-9a-f]{16}$/);
    expect(spillKey('okx', [...many].reverse())).toBe(key);
    expect(spillKey('okx', many.slice(1))).not.toBe(key);
  });
});
