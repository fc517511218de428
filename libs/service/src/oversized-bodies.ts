import type { FastifyInstance } from 'fastify';

/**
 * The most body bytes a service reads and throws away after refusing a request for its size
 * (bodyLimit), so that the client gets the 413 instead of a reset connection.
 */
export const DRAIN_LIMIT_BYTES = 64 * 1024 * 1024;

/**
 * Keeps the connection of a request refused for its size (Fastify answers 413 with `Connection:
 * close` before reading the body) open until the body has arrived, for bodies of a declared length
 * up to DRAIN_LIMIT_BYTES: closed while the client is still sending, the socket is reset and the
 * client sees EPIPE or ECONNRESET instead of the answer (a clean-clone CI run of the hostile-bodies
 * test did). Node.js reads and drops the rest of the body and keeps the connection; a larger or
 * unbounded (chunked) body is still cut off.
 */
export function drainOversizedBodies(fastify: FastifyInstance): void {
  fastify.addHook('onSend', async (request, reply, payload) => {
    const declared = Number(request.headers['content-length']);
    if (reply.getHeader('connection') === 'close' && !request.raw.complete && declared <= DRAIN_LIMIT_BYTES) {
      reply.removeHeader('connection');
    }
    return payload;
  });
}
