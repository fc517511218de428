// SMTP sink for Tresor's tests: accepts every message on 127.0.0.1 (STARTTLS offered with the
// per-run test certificate, AUTH optional and any credentials accepted), stores each one as
// <id>.eml plus a parsed <id>.json in the mail directory, and serves them over HTTP:
//   GET    /health                 -> {"ok":true}
//   GET    /messages[?to=ADDR]     -> [parsed message, ...] oldest first
//   GET    /messages/ID.eml        -> raw message
//   DELETE /messages[?to=ADDR]     -> deletes the matching messages
// Started by test/infra/up. Configuration comes from the environment (see below).
import { createServer } from 'node:http';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { setTimeout } from 'node:timers';
import { URL } from 'node:url';
import { SMTPServer } from 'smtp-server';
import { simpleParser } from 'mailparser';

const host = process.env.SMTP_SINK_HOST ?? '127.0.0.1';
const smtpPort = Number(process.env.SMTP_SINK_PORT ?? 2525);
const httpPort = Number(process.env.SMTP_SINK_HTTP_PORT ?? 2580);
const mailDir = process.env.SMTP_SINK_DIR;
const certFile = process.env.SMTP_SINK_CERT;
const keyFile = process.env.SMTP_SINK_KEY;
if (!mailDir) throw new Error('SMTP_SINK_DIR is required');
mkdirSync(mailDir, { recursive: true, mode: 0o700 });

const tls = certFile && keyFile ? { cert: readFileSync(certFile), key: readFileSync(keyFile) } : {};

const smtp = new SMTPServer({
  name: 'tresor-smtp-sink',
  banner: 'Tresor test SMTP sink',
  authOptional: true,
  allowInsecureAuth: true,
  disabledCommands: certFile ? [] : ['STARTTLS'],
  size: 25 * 1024 * 1024,
  ...tls,
  onAuth(auth, _session, cb) {
    cb(null, { user: auth.username ?? 'anonymous' });
  },
  onData(stream, session, cb) {
    const chunks = [];
    stream.on('data', (c) => chunks.push(c));
    stream.on('error', cb);
    stream.on('end', async () => {
      try {
        const raw = Buffer.concat(chunks);
        const id = `${Date.now().toString().padStart(15, '0')}-${randomUUID()}`;
        const parsed = await simpleParser(raw);
        const record = {
          id,
          receivedAt: new Date().toISOString(),
          envelope: {
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : null,
            to: session.envelope.rcptTo.map((r) => r.address.toLowerCase()),
          },
          secure: Boolean(session.secure),
          user: session.user ?? null,
          messageId: parsed.messageId ?? null,
          subject: parsed.subject ?? '',
          from: parsed.from?.text ?? '',
          to: Array.isArray(parsed.to) ? parsed.to.map((a) => a.text).join(', ') : (parsed.to?.text ?? ''),
          text: parsed.text ?? '',
          html: typeof parsed.html === 'string' ? parsed.html : '',
          headers: Object.fromEntries(
            [...parsed.headers].map(([k, v]) => [k, typeof v === 'string' ? v : JSON.stringify(v)]),
          ),
          attachments: (parsed.attachments ?? []).map((a) => ({
            filename: a.filename ?? null,
            contentType: a.contentType,
            size: a.size,
          })),
        };
        writeFileSync(join(mailDir, `${id}.eml`), raw, { mode: 0o600 });
        const tmp = join(mailDir, `.${id}.json.tmp`);
        writeFileSync(tmp, JSON.stringify(record), { mode: 0o600 });
        renameSync(tmp, join(mailDir, `${id}.json`)); // the .json appears last: a listed message is complete
        cb(null, `stored as ${id}`);
      } catch (err) {
        cb(err);
      }
    });
  },
});
smtp.on('error', (err) => console.error('smtp error:', err.message));

function list(to) {
  const want = to?.toLowerCase();
  return readdirSync(mailDir)
    .filter((f) => f.endsWith('.json') && !f.startsWith('.'))
    .sort()
    .map((f) => JSON.parse(readFileSync(join(mailDir, f), 'utf8')))
    .filter((m) => !want || m.envelope.to.includes(want));
}

const http = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://sink');
  const send = (status, body, type = 'application/json') => {
    res.writeHead(status, { 'content-type': type });
    res.end(type === 'application/json' ? JSON.stringify(body) : body);
  };
  try {
    if (url.pathname === '/health') return send(200, { ok: true });
    const raw = url.pathname.match(/^\/messages\/([0-9a-f-]+)\.eml$/);
    if (req.method === 'GET' && raw)
      return send(200, readFileSync(join(mailDir, `${raw[1]}.eml`)), 'message/rfc822');
    if (url.pathname === '/messages' && req.method === 'GET')
      return send(200, list(url.searchParams.get('to')));
    if (url.pathname === '/messages' && req.method === 'DELETE') {
      const gone = list(url.searchParams.get('to'));
      for (const m of gone) {
        rmSync(join(mailDir, `${m.id}.json`), { force: true });
        rmSync(join(mailDir, `${m.id}.eml`), { force: true });
      }
      return send(200, { deleted: gone.length });
    }
    send(404, { error: 'not found' });
  } catch (err) {
    send(500, { error: String(err?.message ?? err) });
  }
});

smtp.listen(smtpPort, host, () => {
  http.listen(httpPort, host, () => {
    console.log(`smtp sink: smtp://${host}:${smtpPort} http://${host}:${httpPort} dir=${mailDir}`);
  });
});
for (const sig of ['SIGTERM', 'SIGINT']) {
  process.on(sig, () => {
    http.close();
    smtp.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  });
}
