import { decimalsToHold, plainDecimal, roundToDecimals } from '../../src/domain/decimals.js';

describe('decimalsToHold', () => {
  it('is the fewest decimals that hold a number parsed from a decimal, at least the given count', () => {
    expect(decimalsToHold(0, 0)).toBe(0);
    expect(decimalsToHold(12, 0)).toBe(0);
    expect(decimalsToHold(0.07, 0)).toBe(2);
    expect(decimalsToHold(0.00012345, 0)).toBe(8);
    expect(decimalsToHold(1e-7, 0)).toBe(7);
    expect(decimalsToHold(0.000012345678, 0)).toBe(12);
    expect(decimalsToHold(1e-12, 0)).toBe(12);
    expect(decimalsToHold(5, 3)).toBe(3);
    expect(decimalsToHold(1e18, 0)).toBe(0);
  });

  it('gives float drift all the decimals of its shortest form', () => {
    expect(decimalsToHold(0.1 + 0.2, 0)).toBe(17); // 0.30000000000000004
    expect(decimalsToHold(Math.PI / 1e6, 0)).toBe(20);
  });
});

describe('roundToDecimals', () => {
  it('removes the drift of a float sum of decimal numbers', () => {
    expect(roundToDecimals(0.1 + 0.2, 1)).toBe(0.3);
    // 300 sizes with 5 decimals: their float sum is 147.14121000000003.
    let seed = 7;
    const sizes = Array.from({ length: 300 }, () => {
      seed = (seed * 48271) % 2147483647;
      return (seed % 100_000) / 1e5;
    });
    let sum = 0;
    let decimals = 0;
    for (const s of sizes) {
      sum += s;
      decimals = decimalsToHold(s, decimals);
    }
    expect(sum).not.toBe(147.14121);
    expect(decimals).toBe(5);
    expect(roundToDecimals(sum, decimals)).toBe(147.14121);
  });

  it('keeps numbers that already are the decimal, however small or large', () => {
    for (const x of [0.000012345678, 1e-12, 123456789012.34567, 1e18, 1e21, 2 ** 53 + 2]) {
      expect(roundToDecimals(x, decimalsToHold(x, 0))).toBe(x);
    }
    expect(roundToDecimals(Number.POSITIVE_INFINITY, 3)).toBe(Number.POSITIVE_INFINITY);
  });
});

describe('plainDecimal', () => {
  it.each([
    [0.000012345678, '0.000012345678'],
    [1e-7, '0.0000001'],
    [1.2345678901234e-7, '0.00000012345678901234'],
    [1e-12, '0.000000000001'],
    [-2.5e-9, '-0.0000000025'],
    [123456789012.34567, '123456789012.34567'],
    [1e21, '1000000000000000000000'],
    [1.5e22, '15000000000000000000000'],
    [0, '0'],
    [61828, '61828'],
  ])('%d prints as %s, and parses back to the same number', (x, s) => {
    expect(plainDecimal(x)).toBe(s);
    expect(Number(plainDecimal(x))).toBe(x);
  });
});
