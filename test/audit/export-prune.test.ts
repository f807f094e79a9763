/** Retention: export a segment, verify it offline (tampering detected), prune up to a
 * checkpoint and verify the retained log from its anchor, and chain exports together. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AuditLog } from '../../src/audit/audit-log.js';
import { chainHash, GENESIS_HASH } from '../../src/audit/hash-chain.js';
import { recordFromJson } from '../../src/audit/tools/audit-record-json.js';
import { supportsPrune } from '../../src/audit/tools/prune.js';
import { runAudit, type AuditCommandDeps } from '../../src/cli/commands/audit.js';
import { openState, type State } from '../../src/state/open-state.js';
import { ADAPTERS, type AdapterFixture } from '../state/support/adapters.js';
import { captureIo } from './support/capture-io.js';
import { MemoryAuditLog } from './support/memory-audit-log.js';
import { at, seedLog } from './support/seed.js';

const clock = () => at(600);
let dir: string;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'gatehouse-export-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function cli(stateArgs: () => string[], deps: AuditCommandDeps = {}) {
  return async (args: string[]) => {
    const io = captureIo({}, dir);
    const usesState = !args.includes('--file');
    const code = await runAudit([...args, ...(usesState ? stateArgs() : [])], io, {
      clock,
      ...deps,
    });
    return { code, out: io.out(), err: io.err() };
  };
}

type Run = ReturnType<typeof cli>;

const lines = (file: string) => readFileSync(join(dir, file), 'utf8').trimEnd().split('\n');
const write = (file: string, content: string[]) =>
  writeFileSync(join(dir, file), `${content.join('\n')}\n`);

/** The file checks every adapter shares: export, verify offline, and each kind of tampering. */
function exportAndVerifyTests(run: () => Run) {
  it('exports records at or before --until with the anchor and a final checkpoint line', async () => {
    const result = await run()(['export', '--until', at(5).toISOString(), '--out', 'seg.jsonl']);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain('exported 6 records');
    const content = lines('seg.jsonl');
    expect(content).toHaveLength(8);
    const header = JSON.parse(content[0]!) as Record<string, unknown>;
    expect(header).toMatchObject({
      kind: 'export.header',
      version: 1,
      anchor: { seq: 0, hash: GENESIS_HASH },
      until: at(5).toISOString(),
      exportedAt: at(600).toISOString(),
    });
    const records = content.slice(1, 7).map((line) => {
      const parsed = recordFromJson(JSON.parse(line));
      if (!parsed.ok) throw new Error(parsed.reason);
      return parsed.record;
    });
    expect(records.map((r) => r.seq)).toEqual([1, 2, 3, 4, 5, 6]);
    // Each line re-hashes on its own: the export holds the chain, not a summary of it.
    let prev = GENESIS_HASH;
    for (const record of records) {
      expect(chainHash(prev, record)).toBe(record.hash);
      prev = record.hash;
    }
    expect(JSON.parse(content[7]!)).toEqual({
      kind: 'export.checkpoint',
      anchor: { seq: 0, hash: GENESIS_HASH },
      head: { seq: 6, hash: prev },
      records: 6,
      until: at(5).toISOString(),
    });

    const stdout = await run()(['export', '--until', at(5).toISOString()]);
    expect(stdout.out).toBe(readFileSync(join(dir, 'seg.jsonl'), 'utf8'));
  });

  it('verify --file accepts the untouched export and prints its head', async () => {
    await run()(['export', '--until', at(5).toISOString(), '--out', 'seg.jsonl']);
    const result = await run()(['verify', '--file', 'seg.jsonl']);
    expect(result.err).toBe('');
    expect(result.code).toBe(0);
    expect(result.out).toContain('export intact: 6 records');
    expect(result.out).toContain(
      `head 6 ${(JSON.parse(lines('seg.jsonl')[6]!) as { hash: string }).hash}`,
    );
  });

  it('verify --file names the first broken record for an edit, a deletion, a swap, an insertion, a cut and a forged trailer', async () => {
    await run()(['export', '--until', at(5).toISOString(), '--out', 'seg.jsonl']);
    const original = lines('seg.jsonl');
    const edit = (n: number, change: (r: Record<string, unknown>) => void) => {
      const copy = [...original];
      const record = JSON.parse(copy[n]!) as Record<string, unknown>;
      change(record);
      copy[n] = JSON.stringify(record);
      return copy;
    };
    const cases: [string, string[], string, RegExp][] = [
      [
        'edited',
        edit(3, (r) => (r['sql'] = 'SELECT 1')),
        'AUDIT_CHAIN_BROKEN',
        /first broken record 3, edited/,
      ],
      [
        'deleted',
        original.filter((_l, i) => i !== 4),
        'AUDIT_CHAIN_BROKEN',
        /first broken record 4, missing/,
      ],
      [
        'swapped',
        [original[0]!, original[1]!, original[3]!, original[2]!, ...original.slice(4)],
        'AUDIT_CHAIN_BROKEN',
        /first broken record 2, missing/,
      ],
      [
        'inserted',
        [...original.slice(0, 3), original[2]!, ...original.slice(3)],
        'AUDIT_CHAIN_BROKEN',
        /record 2 appears after record 2|reordered/,
      ],
      ['cut short', original.slice(0, 5), 'AUDIT_CHAIN_BROKEN', /without its final checkpoint/],
      [
        'forged trailer',
        edit(7, (r) => ((r['head'] as Record<string, unknown>)['seq'] = 9)),
        'AUDIT_CHAIN_BROKEN',
        /head_mismatch/,
      ],
      [
        'lines after the trailer',
        [...original, original[1]!],
        'AUDIT_CHAIN_BROKEN',
        /follows the export's final checkpoint/,
      ],
      [
        'not JSON',
        [original[0]!, '{oops', ...original.slice(1)],
        'AUDIT_CHAIN_BROKEN',
        /line 2 is not JSON/,
      ],
      ['not an export', original.slice(1), 'AUDIT_EXPORT_MALFORMED', /not an export header/],
      [
        'genesis anchor changed',
        edit(0, (r) => (r['anchor'] = { seq: 0, hash: 'a'.repeat(64) })),
        'AUDIT_EXPORT_MALFORMED',
        /not an export header/,
      ],
      [
        'record hash recomputed over an edit (the next link breaks)',
        (() => {
          const copy = edit(3, (r) => (r['sql'] = 'SELECT 1'));
          const parsed = recordFromJson(JSON.parse(copy[3]!));
          if (!parsed.ok) throw new Error(parsed.reason);
          const rehashed = {
            ...(JSON.parse(copy[3]!) as object),
            hash: chainHash(parsed.record.prevHash, parsed.record),
          };
          copy[3] = JSON.stringify(rehashed);
          return copy;
        })(),
        'AUDIT_CHAIN_BROKEN',
        /first broken record 4, unlinked/,
      ],
    ];
    for (const [name, content, code, message] of cases) {
      write('bad.jsonl', content);
      const result = await run()(['verify', '--file', 'bad.jsonl']);
      expect(result.code, name).toBe(1);
      expect(result.err, name).toContain(code);
      expect(result.err, name).toMatch(message);
    }
  });

  it('verify --file without a file is a usage error', async () => {
    const result = await run()(['verify', '--file', 'missing.jsonl']);
    expect(result.code).toBe(2);
  });

  it('export never overwrites an archive and needs --until', async () => {
    await run()(['export', '--until', at(5).toISOString(), '--out', 'seg.jsonl']);
    expect(
      (await run()(['export', '--until', at(5).toISOString(), '--out', 'seg.jsonl'])).code,
    ).toBe(2);
    expect((await run()(['export'])).code).toBe(2);
  });
}

/** Prune, then verify the store and the exports from the retained checkpoint. */
function pruneTests(run: () => Run, audit: () => AuditLog) {
  it('prune without --confirm only says what it would delete', async () => {
    const result = await run()(['prune', '--until', at(5).toISOString()]);
    expect(result.code).toBe(2);
    expect(result.err).toContain('would delete records 1..5, keeping checkpoint 6');
    expect((await audit().query({ limit: 1 }))[0]?.seq).toBe(1);
  });

  it('prune keeps the chain verifiable from the retained checkpoint, and records itself', async () => {
    expect(
      (await run()(['export', '--until', at(5).toISOString(), '--out', 'first.jsonl'])).code,
    ).toBe(0);
    expect(
      (await run()(['export', '--until', at(3).toISOString(), '--out', 'short.jsonl'])).code,
    ).toBe(0);
    const fifth = (await audit().query({ afterSeq: 4, limit: 1 }))[0]!;

    const pruned = await run()([
      'prune',
      '--until',
      at(5).toISOString(),
      '--confirm',
      '--actor',
      'auditor-ann',
    ]);
    expect(pruned.err).toBe('');
    expect(pruned.code).toBe(0);
    expect(pruned.out).toContain('pruned 5 records');
    expect(pruned.out).toContain(`anchored at record 5 (${fifth.hash})`);

    const remaining = await audit().query({});
    expect(remaining[0]?.seq).toBe(6);
    expect(remaining[0]?.type).toBe('audit.checkpoint');
    const record = remaining.at(-1)!;
    expect(record).toMatchObject({ type: 'audit.checkpoint', actor: 'auditor-ann' });
    expect(record.details?.['prune']).toMatchObject({
      deleted: 5,
      retainedCheckpointSeq: 6,
      anchorSeq: 5,
      anchorHash: fifth.hash,
    });

    const verified = await run()(['verify']);
    expect(verified.code).toBe(0);
    expect(verified.out).toContain(
      `verified from the retained checkpoint after record 5 (${fifth.hash})`,
    );

    // The next export starts at the anchor and continues the first one.
    expect(
      (await run()(['export', '--until', at(900).toISOString(), '--out', 'second.jsonl'])).code,
    ).toBe(0);
    expect(JSON.parse(lines('second.jsonl')[0]!)).toMatchObject({
      anchor: { seq: 5, hash: fifth.hash },
    });
    const alone = await run()(['verify', '--file', 'second.jsonl']);
    expect(alone.code).toBe(0);
    expect(alone.out).toContain('pass --previous');
    const chained = await run()(['verify', '--file', 'second.jsonl', '--previous', 'first.jsonl']);
    expect(chained.code).toBe(0);
    expect(chained.out).toContain('which the previous export holds');

    // An export that stops before the anchor leaves a hole: detected.
    const gap = await run()(['verify', '--file', 'second.jsonl', '--previous', 'short.jsonl']);
    expect(gap.code).toBe(1);
    expect(gap.err).toContain('AUDIT_EXPORT_DISCONTINUOUS');
  });

  it('prune refuses when no checkpoint lies at or before --until', async () => {
    const result = await run()(['prune', '--until', at(4).toISOString(), '--confirm']);
    expect(result.code).toBe(1);
    expect(result.err).toContain('AUDIT_PRUNE_NO_CHECKPOINT');
    expect((await audit().query({ limit: 1 }))[0]?.seq).toBe(1);
  });
}

for (const adapter of ADAPTERS) {
  describe(`export, verify and prune (${adapter.name})`, () => {
    let fixture: AdapterFixture;
    let state: State;
    const stateArgs = () => [
      '--state',
      fixture.config.kind === 'sqlite' ? fixture.config.path : fixture.config.url,
    ];

    beforeEach(async () => {
      fixture = await adapter.create();
      state = await openState(fixture.config, clock);
      await seedLog(state.audit);
    });
    afterEach(async () => {
      await state.close();
      await fixture.cleanup();
    });

    exportAndVerifyTests(() => cli(stateArgs));

    it('verify prints the record count and head of an intact log', async () => {
      const result = await cli(stateArgs)(['verify']);
      expect(result.code).toBe(0);
      const head = (await state.audit.query({ afterSeq: 9 }))[0]!.hash;
      expect(result.out).toBe(`audit log intact: 10 records verified from genesis\nhead ${head}\n`);
    });

    it('verify exits 1 naming the first broken record and why', async () => {
      await fixture.dropAuditProtection();
      await fixture.admin(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 4`);
      await fixture.admin(`UPDATE audit_log SET actor = 'mallory' WHERE seq = 7`);
      const result = await cli(stateArgs)(['verify']);
      expect(result.code).toBe(1);
      expect(result.err).toContain('AUDIT_CHAIN_BROKEN: first broken record 4 (edited)');
      expect(result.err).toContain('3 records verified before it');
    });

    pruneTests(
      () => cli(stateArgs),
      () => state.audit,
    );
  });
}

describe('export, verify and prune (a store with the retention delete)', () => {
  let memory: MemoryAuditLog;
  const deps: AuditCommandDeps = {
    openState: async () =>
      ({
        audit: memory,
        async close() {},
      }) as unknown as State,
  };

  beforeEach(async () => {
    memory = new MemoryAuditLog(clock);
    await seedLog(memory);
  });

  exportAndVerifyTests(() => cli(() => ['--state', 'postgres://memory/x'], deps));
  pruneTests(
    () => cli(() => ['--state', 'postgres://memory/x'], deps),
    () => memory,
  );
});
