import type { EngineKind } from '../policy/databases.js';
import type { Analysis } from './analysis.js';

/**
 * A bounded LRU of analyses keyed by (engine, default schema, SQL text). Analyses are pure
 * functions of that key and frozen, so sharing them is safe. Dashboards and incident loops
 * repeat the same statements; the warm path is one Map lookup (issue 8: warm analysis under
 * 20 µs). Long statements are not cached, so the cache holds at most
 * `maxEntries × maxSqlLength` characters of keys.
 */
export class AnalysisCache {
  private readonly entries = new Map<string, Analysis>();

  constructor(
    readonly maxEntries = 1000,
    readonly maxSqlLength = 16 * 1024,
  ) {}

  get size(): number {
    return this.entries.size;
  }

  get(engine: EngineKind, defaultSchema: string, sql: string): Analysis | undefined {
    if (sql.length > this.maxSqlLength) return undefined;
    const key = cacheKey(engine, defaultSchema, sql);
    const hit = this.entries.get(key);
    if (hit !== undefined) {
      // Map keeps insertion order: re-inserting makes this the most recently used entry.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return hit;
  }

  set(engine: EngineKind, defaultSchema: string, sql: string, analysis: Analysis): void {
    if (sql.length > this.maxSqlLength || this.maxEntries <= 0) return;
    const key = cacheKey(engine, defaultSchema, sql);
    this.entries.delete(key);
    this.entries.set(key, analysis);
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next();
      if (oldest.done === true) break;
      this.entries.delete(oldest.value);
    }
  }

  clear(): void {
    this.entries.clear();
  }
}

function cacheKey(engine: EngineKind, defaultSchema: string, sql: string): string {
  // NUL cannot occur in an engine name or a schema name we accept, so keys cannot collide.
  return `${engine}\u0000${defaultSchema}\u0000${sql}`;
}
