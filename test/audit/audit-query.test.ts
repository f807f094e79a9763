/** `gatehouse audit` filters and formats, run in-process against both state stores (a SQLite
 * temp file and a fresh PostgreSQL database). */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.js';
import { auditRecordJson } from '../../src/audit/tools/audit-record-json.js';
import { runAudit } from '../../src/cli/commands/audit.js';
import { openState, type State } from '../../src/state/open-state.js';
import { ADAPTERS, type AdapterFixture } from '../state/support/adapters.js';
import { captureIo } from './support/capture-io.js';
import { FORMULA_SQL, GRANT, PR, TRICKY_SQL, at, seedLog } from './support/seed.js';

/** RFC 4180 reader for the test: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      row.push(field);
      field = '';
    } else if (c === '\r' && text[i + 1] === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i++;
    } else field += c;
  }
  return rows;
}

for (const adapter of ADAPTERS) {
  describe(`gatehouse audit (${adapter.name})`, () => {
    let fixture: AdapterFixture;
    let state: State;
    let seeded: AuditRecord[];
    const clock = () => at(60);

    beforeEach(async () => {
      fixture = await adapter.create();
      state = await openState(fixture.config, clock);
      seeded = await seedLog(state.audit);
    });
    afterEach(async () => {
      await state.close();
      await fixture.cleanup();
    });

    const stateArg = () =>
      fixture.config.kind === 'sqlite' ? fixture.config.path : fixture.config.url;

    async function run(args: string[], env: Record<string, string> = {}) {
      const io = captureIo(env);
      const code = await runAudit(
        [...args, ...(env['GATEHOUSE_STATE'] ? [] : ['--state', stateArg()])],
        io,
        { clock },
      );
      return { code, out: io.out(), err: io.err() };
    }

    async function seqs(args: string[]): Promise<number[]> {
      const { code, out, err } = await run([...args, '--format', 'jsonl']);
      expect(err).toBe('');
      expect(code).toBe(0);
      return out
        .trim()
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => (JSON.parse(line) as { seq: number }).seq);
    }

    it('lists every record by default, in seq order, each line the record as stored', async () => {
      const { code, out } = await run(['--format', 'jsonl']);
      expect(code).toBe(0);
      const lines = out.trim().split('\n');
      expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual(
        seeded.map((r) => JSON.parse(JSON.stringify(auditRecordJson(r))) as unknown),
      );
    });

    it('filters by user, database, decision, grant id, PR number and type', async () => {
      expect(await seqs(['--user', 'alice'])).toEqual([1, 3, 4]);
      expect(await seqs(['--user', '@bob', '--database', 'hr_prod'])).toEqual([7]);
      expect(await seqs(['--decision', 'refused'])).toEqual([5]);
      expect(await seqs(['--grant', GRANT])).toEqual([2, 3, 4, 8, 9, 10]);
      expect(await seqs(['--grant', `#${PR}`])).toEqual([1, 2, 3, 4, 8, 10]);
      expect(await seqs(['--type', 'grant.*'])).toEqual([1, 2, 8, 9, 10]);
      expect(await seqs(['--type', 'query.outcome,audit.checkpoint'])).toEqual([4, 6]);
    });

    it('filters by time: ISO 8601, dates and spans back from now; since inclusive, until exclusive', async () => {
      expect(await seqs(['--since', at(2).toISOString(), '--until', at(5).toISOString()])).toEqual([
        3, 4, 5,
      ]);
      // now = T0 + 60 min: 58m back is T0 + 2 min.
      expect(await seqs(['--since', '58m', '--until', '55m'])).toEqual([3, 4, 5]);
      expect(await seqs(['--since', '2024-06-02'])).toEqual([]);
      expect(await seqs(['--until', '2024-06-01'])).toEqual([]);
    });

    it('--limit caps the total', async () => {
      expect(await seqs(['--limit', '2'])).toEqual([1, 2]);
      expect(await seqs(['--user', 'bob', '--limit', '1'])).toEqual([5]);
    });

    it('csv: one header, RFC 4180 quoting that round-trips, spreadsheet formulas neutralised', async () => {
      const { code, out } = await run(['--format', 'csv']);
      expect(code).toBe(0);
      expect(out.endsWith('\r\n')).toBe(true);
      const rows = parseCsv(out);
      const header = rows[0]!;
      expect(header.slice(0, 7)).toEqual([
        'seq',
        'at',
        'type',
        'actor',
        'database',
        'decision',
        'code',
      ]);
      expect(header).toContain('hash');
      expect(rows).toHaveLength(seeded.length + 1);
      const col = (name: string) => header.indexOf(name);
      const attempt = rows[3]!;
      expect(attempt[col('sql')]).toBe(TRICKY_SQL);
      expect(attempt[col('grant_ids')]).toBe(GRANT);
      expect(attempt[col('at')]).toBe(at(2).toISOString());
      expect(attempt[col('hash')]).toBe(seeded[2]!.hash);
      const refused = rows[5]!;
      expect(refused[col('sql')]).toBe(`'${FORMULA_SQL}`);
      expect(refused[col('code')]).toBe('SQL_NO_GRANT');
      expect(JSON.parse(rows[4]![col('details')]!)).toEqual({
        rows: 5,
        durationMs: 12,
        truncated: false,
      });
    });

    it('table: aligned columns, a summary per record, control characters escaped', async () => {
      const { code, out } = await run(['--user', 'alice']);
      expect(code).toBe(0);
      const lines = out.trimEnd().split('\n');
      expect(lines[0]).toMatch(
        /^\s+SEQ  TIME \(UTC\)\s+TYPE\s+ACTOR\s+DATABASE\s+DECISION\s+SUMMARY$/,
      );
      expect(lines[1]).toMatch(/^-+( +-+)+$/);
      expect(lines[2]).toMatch(
        /^\s+1  2024-06-01T10:00:00Z  grant\.approved\s+alice\s+-\s+approved\s+https:\/\/github\.com\/acme\/access\/pull\/101/,
      );
      expect(lines[3]).toContain(
        "SELECT * FROM employee WHERE name = 'Zoë, \"the\" boss' AND note = '\\x1b[31mred'",
      );
      expect(lines[4]).toContain('5 rows 12 ms (attempt 3)');
      expect(out).not.toContain('\u001b');
      expect(lines.at(-1)).toBe('(3 records)');
      // Fixed widths: the TYPE column starts at the same offset on every row.
      const typeAt = lines[0]!.indexOf('TYPE');
      expect(lines.slice(2, 5).map((line) => line.slice(typeAt).split(' ')[0])).toEqual([
        'grant.approved',
        'query.attempt',
        'query.outcome',
      ]);
    });

    it('reads the store named by GATEHOUSE_STATE when --state is not given', async () => {
      const { code, out } = await run(['--type', 'audit.checkpoint', '--format', 'jsonl'], {
        GATEHOUSE_STATE: stateArg(),
      });
      expect(code).toBe(0);
      expect(out.trim().split('\n')).toHaveLength(1);
    });

    it('a bad filter is a usage error naming the flag', async () => {
      for (const [args, flag] of [
        [['--since', 'yesterday'], '--since'],
        [['--grant', 'nope'], '--grant'],
        [['--type', 'query.*,grant.typo'], '--type'],
        [['--since', '1h', '--until', '2h'], '--until'],
        [['--format', 'xml'], '--format'],
        [['--limit', '0'], '--limit'],
        [['--bogus'], 'bogus'],
      ] as const) {
        const { code, err } = await run([...args]);
        expect(code, args.join(' ')).toBe(2);
        expect(err).toContain(flag);
      }
    });
  });
}

describe('gatehouse audit without a store', () => {
  it('fails with STATE_UNAVAILABLE rather than creating an empty SQLite file', async () => {
    const io = captureIo({}, '/tmp');
    const code = await runAudit(['--state', '/tmp/gatehouse-no-such-dir/none.db'], io);
    expect(code).toBe(1);
    expect(io.err()).toContain('STATE_UNAVAILABLE');
  });

  it('refuses a --state URL that is neither SQLite nor PostgreSQL', async () => {
    const io = captureIo();
    expect(await runAudit(['--state', 'mysql://root@127.0.0.1/x'], io)).toBe(2);
  });
});
