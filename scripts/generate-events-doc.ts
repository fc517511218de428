// Writes docs/events.md from libs/contracts (run: npm run docs:events).
import { writeFileSync } from 'node:fs';
import { renderEventsDoc } from '@tresor/contracts';

writeFileSync(new URL('../docs/events.md', import.meta.url), renderEventsDoc());
