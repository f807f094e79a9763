/** How `gatehouse query` prints a result: a readable table, JSON, or RFC 4180 CSV. */
export type ResultFormat = 'table' | 'json' | 'csv';

export const RESULT_FORMATS: readonly ResultFormat[] = ['table', 'json', 'csv'];

export interface ResultSet {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly unknown[])[];
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** Control characters would break the grid (and could drive the terminal): shown escaped. */
function printable(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) =>
    c === '\n'
      ? '\\n'
      : c === '\t'
        ? '\\t'
        : c === '\r'
          ? '\\r'
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

export function formatTable(result: ResultSet): string {
  const header = result.columns.map((column) => printable(column.name));
  const body = result.rows.map((row) => result.columns.map((_c, i) => printable(cellText(row[i]))));
  const widths = header.map((name, i) =>
    Math.max(name.length, ...body.map((cells) => (cells[i] ?? '').length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => cell.padEnd(widths[i] ?? 0))
      .join(' | ')
      .trimEnd();
  const rule = widths.map((width) => '-'.repeat(width)).join('-+-');
  return [line(header), rule, ...body.map(line)].join('\n') + '\n';
}

/** RFC 4180 (https://www.rfc-editor.org/rfc/rfc4180): fields with a comma, quote or line
 * break are quoted, quotes doubled, records end with CRLF. NULL is an empty field. */
export function formatCsv(result: ResultSet): string {
  const field = (value: unknown) => {
    if (value === null || value === undefined) return '';
    const text = cellText(value);
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  const records = [
    result.columns.map((column) => field(column.name)),
    ...result.rows.map((row) => result.columns.map((_c, i) => field(row[i]))),
  ];
  return records.map((cells) => cells.join(',') + '\r\n').join('');
}
