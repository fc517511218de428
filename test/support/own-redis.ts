import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { assertReachable, freePort, InfraUnavailableError } from './infra.js';

export interface OwnRedis {
  /** `redis://127.0.0.1:<port>/0` */
  readonly url: string;
  readonly port: number;
  /** SIGKILL now (a crash); with no persistence, restart() comes back empty. */
  kill(): Promise<void>;
  /** Starts again on the same port (after kill()). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private redis-server without persistence on a free loopback port, for fault tests that flush,
 * kill and restart Redis without touching the shared one (TRESOR_TEST_REDIS_URL).
 */
export async function startOwnRedis(bin = process.env.TRESOR_TEST_REDIS_SERVER_BIN ?? 'redis-server'): Promise<OwnRedis> {
  const port = await freePort();
  let child: ChildProcess;
  const exited = () => child.exitCode !== null || child.signalCode !== null;
  const start = async () => {
    child = spawn(bin, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
    child.once('error', () => undefined);
    const deadline = Date.now() + 10_000;
    for (;;) {
      if (exited()) throw new InfraUnavailableError('redis', `${bin} exited with ${child.exitCode} before listening on ${port}`);
      try {
        await assertReachable('redis', '127.0.0.1', port);
        return;
      } catch (err) {
        if (Date.now() > deadline) throw err;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
  };
  const signal = async (sig: NodeJS.Signals) => {
    if (exited()) return;
    await new Promise<void>((r) => {
      child.once('exit', () => r());
      child.kill(sig);
    });
  };
  await start();
  return { url: `redis://127.0.0.1:${port}/0`, port, kill: () => signal('SIGKILL'), restart: start, stop: () => signal('SIGTERM') };
}
