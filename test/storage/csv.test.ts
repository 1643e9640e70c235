import { copyStatement, csvField, csvRow, quoteIdent } from '../../src/storage/csv.js';

describe('csvRow', () => {
  it('writes NULL as an empty unquoted field and an empty string as ""', () => {
    expect(csvRow([null, undefined, ''])).toBe(',,""\n');
  });

  it('quotes every value and doubles embedded quotes', () => {
    expect(csvRow(['a,b', 'say "hi"', 'l1\nl2'])).toBe('"a,b","say ""hi""","l1\nl2"\n');
  });

  it('cannot produce the \\. end-of-data line', () => {
    expect(csvRow(['\\.'])).toBe('"\\."\n');
  });

  it('encodes numbers, bigints, booleans, dates and JSON', () => {
    expect(csvField(0.00000001)).toBe('"1e-8"');
    expect(csvField(12n)).toBe('"12"');
    expect(csvField(false)).toBe('"false"');
    expect(csvField(new Date(Date.UTC(2024, 0, 1)))).toBe('"2024-01-01T00:00:00.000Z"');
    expect(csvField({ a: 'x"y' })).toBe('"{""a"":""x\\""y""}"');
  });

  it('refuses values Postgres would misread', () => {
    expect(() => csvField(Number.NaN)).toThrow(/NaN/);
    expect(() => csvField(Infinity)).toThrow(/Infinity/);
    expect(() => csvField(() => 1)).toThrow(/function/);
  });
});

describe('copyStatement', () => {
  it('quotes the table and column names', () => {
    expect(copyStatement('public.raw_trades', ['timestamp', 'we"ird'], 'STDIN')).toBe(
      'COPY "public"."raw_trades" ("timestamp", "we""ird") FROM STDIN WITH (FORMAT csv)',
    );
    expect(quoteIdent('x')).toBe('"x"');
  });

  it('needs at least one column', () => {
    expect(() => copyStatement('t', [], 'STDIN')).toThrow(/no columns/);
  });
});
