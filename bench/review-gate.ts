import type { Benchmark } from './harness/benchmark.js';
export const reviewGate: Benchmark = {
  id: 'review-gate',
  title: 'review-gate',
  async run() {
    throw new Error('todo');
  },
};
