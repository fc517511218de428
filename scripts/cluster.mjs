#!/usr/bin/env node
// `npm run cluster`: starts every service as its own process (environment from the caller, see
// docs/cluster.md) and stops them all on Ctrl-C.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const launcher = fileURLToPath(new URL('../bin/tresor-service.mjs', import.meta.url));
const services = ['storage-gateway', 'backup-engine', 'recovery', 'monitoring', 'audit', 'scheduler', 'gateway'];
const children = services.map((name) => {
  const env = { ...process.env };
  if (name !== 'gateway') env.TRESOR_HTTP_PORT = '0';
  const child = spawn(process.execPath, [launcher, name], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`cluster: ${name} exited (${signal ?? code}); stopping the others\n`);
    stop();
  });
  return child;
});

let stopping = false;
function stop() {
  if (stopping) return;
  stopping = true;
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  setTimeout(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    process.exit(0);
  }, 15_000).unref();
}
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
