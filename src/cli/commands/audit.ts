import { EXIT, type CliIo } from '../cli-io.js';

// Placeholder until the owning issue lands.
export async function audit(_args: readonly string[], io: CliIo): Promise<number> {
  io.stderr('gatehouse audit: not implemented yet\n');
  return EXIT.FAILED;
}
