// Writes docs/errors.md from the error catalogue (npm run docs:errors).
import { writeFileSync } from 'node:fs';
import { renderErrorsDoc } from '../src/errors/render-errors-doc.js';

writeFileSync(new URL('../docs/errors.md', import.meta.url), renderErrorsDoc());
