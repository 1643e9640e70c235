import { globMatcher, isGlob } from '../../src/bus/glob.js';

/** The in-process bus must route like Redis' PSUBSCRIBE, or the two buses would disagree on a pattern. */
describe('globMatcher', () => {
  it.each([
    ['market:*', 'market:BTC-USDT', true],
    ['market:*', 'market:', true],
    ['market:*', 'signals:x', false],
    ['market:BTC-?SDT', 'market:BTC-USDT', true],
    ['market:BTC-?SDT', 'market:BTC-SDT', false],
    ['status:bot-[12]', 'status:bot-2', true],
    ['status:bot-[^12]', 'status:bot-2', false],
    ['status:bot-[a-c]', 'status:bot-b', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a.b', 'axb', false],
    ['(x)+', '(x)+', true],
    ['system:events', 'system:events', true],
    ['system:events', 'system:eventsX', false],
  ])('%s vs %s → %s', (pattern, channel, expected) => {
    expect(globMatcher(pattern)(channel)).toBe(expected);
  });

  it('tells exact channels from patterns', () => {
    expect(isGlob('market:BTC-USDT')).toBe(false);
    expect(isGlob('market:*')).toBe(true);
    expect(isGlob('bot-[12]')).toBe(true);
  });
});
