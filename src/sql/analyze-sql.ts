import type { Analysis, AnalysisInput } from './analysis.js';
import { refusedAnalysis } from './analysis-collector.js';
import { AnalysisCache } from './analysis-cache.js';
import { analyzeMysql } from './mysql/analyze-mysql.js';
import { analyzePostgres, initPostgresParser } from './postgres/analyze-postgres.js';

/** Statements longer than this are refused before any parser sees them. */
export const MAX_SQL_LENGTH = 100_000;

const cache = new AnalysisCache();

/**
 * Loads the PostgreSQL parser (WASM). Call once at start and await it; until it resolves,
 * PostgreSQL analyses refuse with SQL_ANALYSER_UNAVAILABLE (fail closed). Idempotent.
 */
export async function initSqlAnalysis(): Promise<void> {
  await initPostgresParser();
}

/**
 * What a statement is and which tables and functions it reads, or why it cannot be proved
 * safe. Pure and synchronous after `initSqlAnalysis()`; never throws: an internal error in a
 * walker becomes a refusal (SQL_UNRESOLVED), never an allowed statement.
 */
export function analyzeSql(input: AnalysisInput): Analysis {
  const { engine, sql, defaultSchema } = input;
  const cached = cache.get(engine, defaultSchema, sql);
  if (cached !== undefined) return cached;
  const analysis = analyzeUncached(input);
  // Refusals for a missing parser are not cached: they end when init completes.
  if (!analysis.reasons.some((r) => r.code === 'SQL_ANALYSER_UNAVAILABLE')) {
    cache.set(engine, defaultSchema, sql, analysis);
  }
  return analysis;
}

function analyzeUncached({ engine, sql, defaultSchema }: AnalysisInput): Analysis {
  if (typeof sql !== 'string' || sql.trim().length === 0) {
    return refusedAnalysis('empty', 'SQL_EMPTY', 'No statement was given.');
  }
  if (sql.length > MAX_SQL_LENGTH) {
    return refusedAnalysis(
      'unknown',
      'SQL_TOO_LONG',
      `The statement is ${sql.length} characters long; the analyser accepts at most ${MAX_SQL_LENGTH}.`,
    );
  }
  if (sql.includes('\u0000')) {
    return refusedAnalysis('unknown', 'SQL_LEXICAL', 'The statement contains a NUL character.');
  }
  try {
    if (engine === 'mysql') return analyzeMysql(sql, defaultSchema);
    if (engine === 'postgres') return analyzePostgres(sql, defaultSchema);
    return refusedAnalysis('unknown', 'SQL_UNRESOLVED', `Unknown engine '${String(engine)}'.`);
  } catch (error) {
    // A parser or walker bug (e.g. a stack overflow on absurd nesting): refuse.
    const detail = error instanceof Error ? error.message : String(error);
    return refusedAnalysis(
      'unknown',
      'SQL_UNRESOLVED',
      `The analyser failed on this statement (${detail.slice(0, 200)}); it refuses what it cannot prove safe.`,
    );
  }
}
