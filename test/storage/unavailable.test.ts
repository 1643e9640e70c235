import { RxtradeError } from '../../src/domain/errors.js';
import { openDatabase } from '../../src/storage/database.js';
import { describeUrl } from '../../src/storage/unavailable.js';
import { ADMIN_URL } from './support/databases.js';

describe('an unusable Postgres', () => {
  it('fails with db_unavailable naming host and port when nothing listens', async () => {
    const err: unknown = await openDatabase({ url: 'postgres://postgres:secret@127.0.0.1:1/rxtrade' }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(RxtradeError);
    expect(err).toMatchObject({ code: 'db_unavailable' });
    expect((err as Error).message).toBe(
      'cannot use Postgres at 127.0.0.1:1/rxtrade: nothing answers (ECONNREFUSED)',
    );
  });

  it('says so when the database does not exist', async () => {
    const url = new URL(ADMIN_URL);
    url.pathname = '/rxtrade_no_such_database';
    await expect(openDatabase({ url: url.toString() })).rejects.toMatchObject({
      code: 'db_unavailable',
      message: expect.stringContaining('the database does not exist') as unknown,
    });
  });

  it('never prints the password', () => {
    expect(describeUrl('postgres://u:hunter2@db.example:6543/x')).toBe('db.example:6543/x');
  });
});
