/** `gatehouse audit stream`: JSON lines of every record for a SIEM, resumable from a seq or
 * from where the output file stops, and following new records by polling. */
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { chainHash } from '../../src/audit/hash-chain.js';
import { recordFromJson } from '../../src/audit/tools/audit-record-json.js';
import { runAudit, type AuditCommandDeps } from '../../src/cli/commands/audit.js';
import { openState, type State } from '../../src/state/open-state.js';
import { ADAPTERS, type AdapterFixture } from '../state/support/adapters.js';
import { captureIo } from './support/capture-io.js';
import { at, seedLog } from './support/seed.js';

const seqsOf = (text: string) =>
  text
    .trimEnd()
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => (JSON.parse(l) as { seq: number }).seq);

for (const adapter of ADAPTERS) {
  describe(`gatehouse audit stream (${adapter.name})`, () => {
    let fixture: AdapterFixture;
    let state: State;
    let dir: string;

    beforeEach(async () => {
      fixture = await adapter.create();
      state = await openState(fixture.config, () => at(60));
      await seedLog(state.audit);
      dir = mkdtempSync(join(tmpdir(), 'gatehouse-stream-'));
    });
    afterEach(async () => {
      await state.close();
      await fixture.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    async function run(args: string[], deps: AuditCommandDeps = {}) {
      const io = captureIo({}, dir);
      const s = fixture.config.kind === 'sqlite' ? fixture.config.path : fixture.config.url;
      const code = await runAudit(['stream', ...args, '--state', s], io, deps);
      return { code, out: io.out(), err: io.err() };
    }

    it('writes every record as a re-hashable JSON line and says where to resume', async () => {
      const result = await run([]);
      expect(result.code).toBe(0);
      const lines = result.out.trimEnd().split('\n');
      expect(lines).toHaveLength(10);
      let prev = '0'.repeat(64);
      for (const line of lines) {
        const parsed = recordFromJson(JSON.parse(line));
        if (!parsed.ok) throw new Error(parsed.reason);
        expect(chainHash(prev, parsed.record)).toBe(parsed.record.hash);
        prev = parsed.record.hash;
      }
      expect(result.err).toContain('10 records written; resume with --from-seq 11');
    });

    it('--from-seq N starts at record N', async () => {
      expect(seqsOf((await run(['--from-seq', '8'])).out)).toEqual([8, 9, 10]);
      expect((await run(['--from-seq', '0'])).code).toBe(2);
    });

    it('--out appends and resumes after the last line in the file, dropping a line cut short', async () => {
      expect((await run(['--out', 'siem.jsonl'])).code).toBe(0);
      await state.audit.append({ type: 'config.reloaded', actor: 'gatehouse' });
      // A crash mid-write left half a line behind.
      appendFileSync(join(dir, 'siem.jsonl'), '{"seq":11,"at":"2024-');
      const again = await run(['--out', 'siem.jsonl']);
      expect(again.err).toContain('1 record written; resume with --from-seq 12');
      const content = readFileSync(join(dir, 'siem.jsonl'), 'utf8');
      expect(seqsOf(content)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
    });

    it('--out refuses a file that does not end with a record', async () => {
      writeFileSync(join(dir, 'other.txt'), 'hello\n');
      const result = await run(['--out', 'other.txt']);
      expect(result.code).toBe(2);
      expect(result.err).toContain('pass --from-seq');
    });

    it('--follow polls for new records until stopped', async () => {
      const controller = new AbortController();
      let polls = 0;
      const result = await run(['--follow', '--interval', '5s', '--from-seq', '10'], {
        signal: controller.signal,
        sleep: async (ms) => {
          expect(ms).toBe(5000);
          polls++;
          if (polls === 1) {
            await state.audit.append({ type: 'config.reloaded', actor: 'gatehouse' });
            await state.audit.append({ type: 'audit.checkpoint', actor: 'gatehouse' });
          } else {
            controller.abort();
          }
        },
      });
      expect(result.code).toBe(0);
      expect(seqsOf(result.out)).toEqual([10, 11, 12]);
      expect(polls).toBe(2);
      expect(result.err).toContain('resume with --from-seq 13');
    });

    it('a bad interval is a usage error', async () => {
      expect((await run(['--interval', 'fast'])).code).toBe(2);
      expect((await run(['--interval', '10ms'])).code).toBe(2);
    });
  });
}
