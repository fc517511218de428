import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mongoDatabase, type MongoScope } from '../../../../test/support/infra.js';
import { alertHistoryConformance } from './history.conformance.js';
import { MemoryAlertHistory } from './history.js';
import { MongoAlertHistory } from './mongo.history.js';
import { SqliteAlertHistory } from './sqlite.history.js';

describe('MemoryAlertHistory', () => {
  alertHistoryConformance(async () => new MemoryAlertHistory());
});

describe('SqliteAlertHistory', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tresor-alerts-'));
  const opened: SqliteAlertHistory[] = [];
  let n = 0;
  afterAll(async () => {
    await Promise.all(opened.map((h) => h.close()));
    rmSync(dir, { recursive: true, force: true });
  });
  alertHistoryConformance(async () => {
    const h = await SqliteAlertHistory.open(join(dir, `h${++n}`, 'alerts.db'));
    opened.push(h);
    return h;
  });

  it('creates its file 0600 and keeps alerts across reopening', async () => {
    const file = join(dir, 'reopen.db');
    const h = await SqliteAlertHistory.open(file);
    const [a] = (await import('./history.conformance.js')).historyAlerts();
    await h.record(a!);
    await h.close();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const again = await SqliteAlertHistory.open(file);
    opened.push(again);
    expect(await again.query()).toEqual([a]);
  });

  it('refuses a file that is not an alert history', async () => {
    const other = join(dir, 'other.db');
    writeFileSync(other, 'not sqlite at all, just text that is long enough to be a header..........');
    await expect(SqliteAlertHistory.open(other)).rejects.toThrow(/cannot open alert history .*other\.db/);
  });
});

describe('MongoAlertHistory', () => {
  let scope: MongoScope | undefined;
  let n = 0;
  afterAll(async () => scope?.cleanup());
  alertHistoryConformance(async () => {
    scope ??= await mongoDatabase();
    return MongoAlertHistory.open(scope.db, `t${++n}_`);
  });
});
