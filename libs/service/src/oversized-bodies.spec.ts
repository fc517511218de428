import { connect } from 'node:net';
import type { Socket } from 'node:net';
import Fastify from 'fastify';
import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { DRAIN_LIMIT_BYTES, drainOversizedBodies } from './oversized-bodies.js';

const LIMIT = 1024 * 1024;

/** A server like the services' (bodyLimit 1 MiB), with or without the drain. */
async function server(drain: boolean): Promise<{ app: FastifyInstance; port: number }> {
  const app = Fastify({ bodyLimit: LIMIT });
  if (drain) drainOversizedBodies(app);
  app.post('/x', async () => ({ ok: true }));
  app.get('/ping', async () => 'pong');
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  return { app, port: typeof address === 'object' && address ? address.port : 0 };
}

/** Collects what the socket receives, and whether the server ended or reset it. */
function watch(socket: Socket) {
  const state = { text: '', ended: false, error: undefined as NodeJS.ErrnoException | undefined };
  socket.on('data', (chunk: Buffer) => (state.text += chunk.toString('latin1')));
  socket.on('end', () => (state.ended = true));
  socket.on('error', (err) => (state.error = err));
  return state;
}

const until = async (what: string, ready: () => boolean): Promise<void> => {
  for (let i = 0; i < 500 && !ready(); i++) await new Promise((r) => setTimeout(r, 10));
  if (!ready()) throw new Error(`timed out waiting for ${what}`);
};

describe('drainOversizedBodies', () => {
  let app: FastifyInstance | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  /** Sends the head of a 2 MiB POST and 64 KiB of its body, and waits for the answer's head. */
  async function postTooLarge(port: number) {
    const socket = connect(port, '127.0.0.1');
    const state = watch(socket);
    const length = 2 * LIMIT;
    socket.write(`POST /x HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`);
    socket.write(Buffer.alloc(64 * 1024, 0x61));
    await until('the answer', () => state.text.includes('\r\n\r\n'));
    return { socket, state, rest: Buffer.alloc(length - 64 * 1024, 0x61) };
  }

  it('answers 413 and keeps reading the body, then serves the next request on the connection', async () => {
    let port: number;
    ({ app, port } = await server(true));
    const { socket, state, rest } = await postTooLarge(port);
    expect(state.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(state.text.toLowerCase()).not.toContain('connection: close');
    socket.write(rest);
    socket.write('GET /ping HTTP/1.1\r\nhost: x\r\n\r\n');
    await until('the second answer', () => state.text.includes('pong') || state.ended || state.error !== undefined);
    expect(state.error).toBeUndefined();
    expect(state.text).toMatch(/HTTP\/1\.1 200 [^]*pong/);
    socket.destroy();
  });

  it('without it, the connection is closed while the body is still coming (the client then sees a reset)', async () => {
    let port: number;
    ({ app, port } = await server(false));
    const { socket, state } = await postTooLarge(port);
    expect(state.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(state.text.toLowerCase()).toContain('connection: close');
    await until('the server to end the connection', () => state.ended || state.error !== undefined);
    socket.destroy();
  });

  it('still closes at once for a body declared larger than the drain limit', async () => {
    let port: number;
    ({ app, port } = await server(true));
    const socket = connect(port, '127.0.0.1');
    const state = watch(socket);
    socket.write(`POST /x HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${DRAIN_LIMIT_BYTES + 1}\r\n\r\n`);
    await until('the answer', () => state.text.includes('\r\n\r\n'));
    expect(state.text).toMatch(/^HTTP\/1\.1 413 /);
    expect(state.text.toLowerCase()).toContain('connection: close');
    await until('the server to end the connection', () => state.ended || state.error !== undefined);
    socket.destroy();
  });
});
