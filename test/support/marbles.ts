import { TestScheduler } from 'rxjs/testing';

/** A fresh TestScheduler comparing with jest's deep equality. */
export function marbleScheduler(): TestScheduler {
  return new TestScheduler((actual, expected) => expect(actual).toEqual(expected));
}

/** Matches the InvalidDataError an operator errors with, by message. */
export function invalidData(message: RegExp): unknown {
  return expect.objectContaining({
    name: 'InvalidDataError',
    code: 'invalid_data',
    message: expect.stringMatching(message),
  });
}
