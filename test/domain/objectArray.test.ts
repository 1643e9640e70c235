import { objectArray } from '../../src/domain/objectArray.js';

describe('objectArray', () => {
  it('is a new empty array each time, holding what is pushed and nothing else', () => {
    const a = objectArray<{ id: number }>();
    const b = objectArray<{ id: number }>();
    expect(a).toEqual([]);
    expect(a).not.toBe(b);
    a.push({ id: 1 }, { id: 2 });
    expect(a).toEqual([{ id: 1 }, { id: 2 }]);
    expect(b).toEqual([]);
    expect(Object.keys(a)).toEqual(['0', '1']);
  });
});
