import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConnectionError, ManualBarFeed, barFromValues } from '@feed/core';
import { BarPublisher, NatsBarFeed, connectNats } from '../src/index.js';
import { NatsServer } from '../src/testing.js';
import { NATS_SERVER } from './nats-server.js';

const MIN = 60_000;
const T0 = Date.UTC(2025, 9, 6, 13, 30);
const PUBLISHER_PASS = 'pub-secret-Xk29sLq7';
const READER_PASS = 'read-secret-Mq83nZv2';
const until = (check: () => void): Promise<void> => vi.waitFor(check, { timeout: 20_000, interval: 5 });

/** A CA, a server certificate for 127.0.0.1 and a client certificate, made with openssl for this run. */
function certificates(dir: string): Record<'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey', string> {
  const f = (name: string): string => join(dir, name);
  const ssl = (...args: string[]): void => {
    execFileSync('openssl', args, { stdio: 'ignore' });
  };
  ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('ca.key'), '-out', f('ca.pem'), '-days', '2', '-subj', '/CN=feed test CA');
  writeFileSync(f('server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('server.key'), '-out', f('server.csr'), '-subj', '/CN=127.0.0.1');
  ssl('x509', '-req', '-in', f('server.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('server.pem'), '-days', '2', '-extfile', f('server.ext'));
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', f('client.key'), '-out', f('client.csr'), '-subj', '/CN=feed client');
  ssl('x509', '-req', '-in', f('client.csr'), '-CA', f('ca.pem'), '-CAkey', f('ca.key'), '-CAcreateserial', '-out', f('client.pem'), '-days', '2');
  return { ca: f('ca.pem'), serverCert: f('server.pem'), serverKey: f('server.key'), clientCert: f('client.pem'), clientKey: f('client.key') };
}

describe.skipIf(NATS_SERVER === undefined)('who may publish and read (authorization and TLS on a real server)', () => {
  let server: NatsServer;
  let dir: string;
  let certs: ReturnType<typeof certificates>;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'feed-nats-tls-'));
    certs = certificates(dir);
    // The publisher may publish bars and use JetStream; the reader may use JetStream (consumers,
    // acknowledgements) but not publish bars. Every client must present a certificate of the CA.
    server = await NatsServer.start({
      config: `
tls {
  cert_file: "${certs.serverCert}"
  key_file: "${certs.serverKey}"
  ca_file: "${certs.ca}"
  verify: true
}
authorization {
  users: [
    { user: publisher, password: "${PUBLISHER_PASS}", permissions: { publish: ["feed.bars.>", "$JS.API.>", "_INBOX.>"], subscribe: ["_INBOX.>"] } }
    { user: reader, password: "${READER_PASS}", permissions: { publish: ["$JS.API.>", "$JS.ACK.>", "_INBOX.>"], subscribe: ["_INBOX.>", "feed.bars.>"] } }
  ]
}
`,
    });
    // Certificates by openssl and a TLS server's start: seconds on a loaded 2-core machine.
  }, 60_000);
  afterAll(async () => {
    await (server as NatsServer | undefined)?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const tls = (): { caFile: string; certFile: string; keyFile: string } => ({ caFile: certs.ca, certFile: certs.clientCert, keyFile: certs.clientKey });

  it('a wrong password is a clear ConnectionError at connect(), without the password, and publishes nothing', async () => {
    const feed = new NatsBarFeed({ symbols: ['TQQQ'], connection: { servers: server.url, user: 'publisher', pass: 'wrong-Password-77', tls: tls(), attempts: 1 } });
    const errors: Error[] = [];
    feed.on('error', (e) => errors.push(e.error));
    const error = await feed.connect().then(() => undefined, (e: unknown) => e as Error);
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error?.message).toMatch(/authorization/i);
    for (const e of [error, ...errors]) expect(`${e?.message} ${e?.stack} ${JSON.stringify(e)}`).not.toContain('wrong-Password-77');
    const nc = await connectNats({ servers: server.url, user: 'publisher', pass: PUBLISHER_PASS, tls: tls() });
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const streams = await (await jetstreamManager(nc)).streams.names().next();
    expect(streams).toEqual([]);
    await nc.close();
  });

  it('without a client certificate the TLS server refuses the connection', async () => {
    const error = await connectNats({ servers: server.url, user: 'publisher', pass: PUBLISHER_PASS, tls: { caFile: certs.ca }, attempts: 1, timeout: 2_000 }).then(
      () => undefined,
      (e: unknown) => e as Error,
    );
    expect(ConnectionError.isInstance(error)).toBe(true);
    expect(error?.message).not.toContain(PUBLISHER_PASS);
  });

  it('the publisher publishes over TLS, the reader reads, and a reader that tries to publish gets the permission error reported', async () => {
    const pub = await connectNats({ servers: server.url, user: 'publisher', pass: PUBLISHER_PASS, tls: tls() });
    const source = new ManualBarFeed(['TQQQ']);
    await source.connect();
    await source.start();
    const publisher = await BarPublisher.start({ feed: source, connection: pub });
    const reader = new NatsBarFeed({ symbols: ['TQQQ'], connection: { servers: server.url, user: 'reader', pass: READER_PASS, tls: tls() }, from: 'all' });
    const got: unknown[] = [];
    reader.on('bar', (e) => got.push(e.bar));
    await reader.connect();
    await reader.start();
    source.push(barFromValues('TQQQ', T0, MIN, 10, 11, 9, 10.5, 100, Number.NaN, -1, T0 + MIN));
    await until(() => expect(got).toHaveLength(1));

    // The reader's credentials on a publisher: the publish is refused, reported and counted.
    const readerConnection = await connectNats({ servers: server.url, user: 'reader', pass: READER_PASS, tls: tls() });
    const readOnly = new ManualBarFeed(['TQQQ']);
    await readOnly.connect();
    await readOnly.start();
    const refused = await BarPublisher.start({ feed: readOnly, connection: readerConnection, ackTimeoutMs: 2_000 });
    const errors: Error[] = [];
    refused.on('error', (e) => errors.push(e.error));
    readOnly.push(barFromValues('TQQQ', T0 + MIN, MIN, 10, 11, 9, 10.5, 100, Number.NaN, -1, T0 + 2 * MIN));
    await until(() => expect(errors).toHaveLength(1));
    expect(errors[0]?.message).toMatch(/refused feed\.bars\.TQQQ \(1 bar from TQQQ 2025-10-06T13:31:00.000Z\): .*permission/i);
    expect(refused.stats()).toMatchObject({ refused: 1, acknowledged: 0 });
    for (const e of errors) expect(`${e.message} ${JSON.stringify(e)}`).not.toContain(READER_PASS);
    expect(got).toHaveLength(1);
    await reader.disconnect();
    await publisher.close();
    await pub.close();
    await readerConnection.close();
  }, 30_000);
});
