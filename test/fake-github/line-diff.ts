export interface LineDiff {
  readonly additions: number;
  readonly deletions: number;
  /** A unified diff body (one hunk with the whole file as context), like GitHub's `patch`. */
  readonly patch: string;
}

/** Above this many line pairs the LCS table would be too big: treat it as a full rewrite. */
const MAX_CELLS = 4_000_000;

/**
 * Line-level diff of two texts (null = file absent) by longest common subsequence, enough to
 * fill `additions`, `deletions`, `changes` and `patch` of GitHub's pull request files.
 */
export function lineDiff(before: string | null, after: string | null): LineDiff {
  const a = splitLines(before);
  const b = splitLines(after);
  const ops: string[] = [];
  if (a.length * b.length > MAX_CELLS) {
    for (const line of a) ops.push(`-${line}`);
    for (const line of b) ops.push(`+${line}`);
  } else {
    const lcs: Uint32Array[] = Array.from(
      { length: a.length + 1 },
      () => new Uint32Array(b.length + 1),
    );
    for (let i = a.length - 1; i >= 0; i--) {
      for (let j = b.length - 1; j >= 0; j--) {
        lcs[i]![j] =
          a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
      }
    }
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (i < a.length && j < b.length && a[i] === b[j]) {
        ops.push(` ${a[i]}`);
        i++;
        j++;
      } else if (j < b.length && (i >= a.length || lcs[i]![j + 1]! >= lcs[i + 1]![j]!)) {
        ops.push(`+${b[j]}`);
        j++;
      } else {
        ops.push(`-${a[i]}`);
        i++;
      }
    }
  }
  const additions = ops.filter((op) => op.startsWith('+')).length;
  const deletions = ops.filter((op) => op.startsWith('-')).length;
  const header = `@@ -${a.length === 0 ? 0 : 1},${a.length} +${b.length === 0 ? 0 : 1},${b.length} @@`;
  return { additions, deletions, patch: ops.length === 0 ? '' : [header, ...ops].join('\n') };
}

function splitLines(text: string | null): string[] {
  if (text === null || text === '') return [];
  const lines = text.split('\n');
  if (lines[lines.length - 1] === '') lines.pop();
  return lines;
}
