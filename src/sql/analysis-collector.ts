import type { ErrorCode } from '../errors/catalogue.js';
import type { Analysis, Reason, TableRef } from './analysis.js';

/**
 * Accumulates what one statement reads while an engine walker descends its syntax tree.
 * The walkers only ever add; `finish` sorts and freezes, so equal SQL gives equal analyses
 * (the cache and the audit log rely on that).
 */
export class AnalysisCollector {
  statementType = 'unknown';
  private readonly tables = new Map<string, TableRef>();
  private readonly functions = new Set<string>();
  private readonly reasons: Reason[] = [];
  private readonly seenReasons = new Set<string>();

  addTable(table: TableRef): void {
    this.tables.set(`${table.schema}\u0000${table.name}`, table);
  }

  addFunction(name: string): void {
    this.functions.add(name.toLowerCase());
  }

  refuse(code: ErrorCode, message: string, position?: number): void {
    const key = `${code}\u0000${message}\u0000${position ?? ''}`;
    if (this.seenReasons.has(key)) return;
    this.seenReasons.add(key);
    this.reasons.push(position === undefined ? { code, message } : { code, message, position });
  }

  get refused(): boolean {
    return this.reasons.length > 0;
  }

  finish(): Analysis {
    const tables = [...this.tables.values()].sort((a, b) =>
      a.schema === b.schema ? compare(a.name, b.name) : compare(a.schema, b.schema),
    );
    return Object.freeze({
      ok: this.reasons.length === 0,
      statementType: this.statementType,
      tables: Object.freeze(tables.map((t) => Object.freeze({ schema: t.schema, name: t.name }))),
      functions: Object.freeze([...this.functions].sort(compare)),
      reasons: Object.freeze(this.reasons.map((r) => Object.freeze({ ...r }))),
    });
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** An analysis that refuses outright, for failures before any tree exists. */
export function refusedAnalysis(
  statementType: string,
  code: ErrorCode,
  message: string,
  position?: number,
): Analysis {
  const collector = new AnalysisCollector();
  collector.statementType = statementType;
  collector.refuse(code, message, position);
  return collector.finish();
}
