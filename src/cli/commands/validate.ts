import { EXIT, type CliIo } from '../cli-io.js';

// Placeholder until the owning issue lands.
export async function validate(_args: readonly string[], io: CliIo): Promise<number> {
  io.stderr('gatehouse validate: not implemented yet\n');
  return EXIT.FAILED;
}
