/** Number formatting shared by the benchmark tables. */

export function us(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} ms`;
  if (value >= 1000) return `${(value / 1000).toFixed(2)} ms`;
  if (value >= 100) return `${value.toFixed(0)} µs`;
  if (value >= 10) return `${value.toFixed(1)} µs`;
  return `${value.toFixed(2)} µs`;
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 10_000) return `${(value / 1000).toFixed(1)} s`;
  if (value >= 100) return `${value.toFixed(0)} ms`;
  return `${value.toFixed(1)} ms`;
}

export function rate(value: number): string {
  if (!Number.isFinite(value)) return 'n/a';
  if (value >= 100_000) return `${Math.round(value / 1000)}k`;
  if (value >= 1000) return value.toFixed(0);
  if (value >= 10) return value.toFixed(1);
  return value.toFixed(2);
}

export function pct(ratio: number): string {
  return Number.isFinite(ratio) ? `${(ratio * 100).toFixed(0)} %` : 'n/a';
}

export function times(ratio: number): string {
  return Number.isFinite(ratio) ? `${ratio.toFixed(2)}×` : 'n/a';
}
