import type { Benchmark } from './harness/benchmark.js';
export const expirySweep: Benchmark = {
  id: 'expiry-sweep',
  title: 'expiry-sweep',
  async run() {
    throw new Error('todo');
  },
};
