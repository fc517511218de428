/* global fetch, AbortSignal */
// Container health check: `node healthcheck.mjs /health/ready` exits 0 when the service's own HTTP
// endpoint answers 2xx on TRESOR_HTTP_PORT (loopback; the image binds 0.0.0.0, which includes it).
const path = process.argv[2] ?? '/health/ready';
const port = process.env.TRESOR_HTTP_PORT;
if (!port || port === '0') {
  process.stderr.write('healthcheck: TRESOR_HTTP_PORT must name a fixed port\n');
  process.exit(1);
}
try {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2500) });
  process.exit(res.ok ? 0 : 1);
} catch {
  process.exit(1);
}
