// rediss:// and valkeys://: migrate and import over TLS, against a private server with a certificate from its own CA.
// The CA is given the way Node takes extra roots (NODE_EXTRA_CA_CERTS, what the README tells users of a private CA);
// a server whose certificate nobody vouches for is refused at connect: exit 1, the server's certificate named as the
// reason, nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../bench/redis-server.mjs';
import { cli, readStore, serverAndStore, sessionFor, tempDir } from './fixtures/cli/helpers.mjs';

const MARK = 'TlsPrivateSid';

/** A CA and a certificate it signed for localhost and 127.0.0.1, made with the openssl command (.ci/run installs it). */
function certificates(dir) {
  const path = (name) => join(dir, name);
  const openssl = (...args) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', path('ca.key'), '-out', path('ca.pem'), '-days', '2', '-subj', '/CN=express-memfilestore test CA');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(path('san.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', path('server.csr'), '-CA', path('ca.pem'), '-CAkey', path('ca.key'), '-CAcreateserial',
    '-out', path('server.pem'), '-days', '2', '-extfile', path('san.cnf'));
  return { ca: path('ca.pem'), cert: path('server.pem'), key: path('server.key') };
}

test('migrate to rediss:// and import from valkeys://, trusting a private CA through NODE_EXTRA_CA_CERTS; an untrusted certificate is refused, nothing written', { timeout: 120_000 }, async (t) => {
  const certs = certificates(tempDir(t));
  const tlsPort = await freePort();
  const sessions = {};
  for (let i = 0; i < 120; i++) sessions[`${MARK}${i}`] = sessionFor(i, 3_600_000 + i * 1000);
  // The plain port stays open for this test's own client; the CLI speaks only TLS.
  const setup = await serverAndStore(t, sessions, ['--tls-port', String(tlsPort), '--tls-cert-file', certs.cert,
    '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no']);
  if (!setup) return;
  const { client, dir, file } = setup;
  const url = `rediss://localhost:${tlsPort}`;

  const started = Date.now();
  const untrusted = await cli(['migrate', file, '--to', url]);
  assert.equal(untrusted.code, 1, untrusted.stderr);
  assert.match(untrusted.stderr, /cannot connect to rediss:\/\/localhost:\d+: self-signed certificate in certificate chain \(a server certificate from a private CA: give that CA's PEM file as NODE_EXTRA_CA_CERTS=<file>\)\. Nothing was changed/);
  assert.ok(Date.now() - started < 30_000, 'refused at connect, not after retries');
  assert.equal(await client.dbSize(), 0);
  assert.ok(!untrusted.stderr.includes(MARK));

  const trusted = { env: { NODE_EXTRA_CA_CERTS: certs.ca } };
  const migrated = await cli(['migrate', file, '--to', url, '--json'], trusted);
  assert.equal(migrated.code, 0, migrated.stderr);
  assert.equal(JSON.parse(migrated.stdout).verified, 120);
  assert.equal(await client.dbSize(), 120);

  const back = join(dir, 'back.snap');
  const imported = await cli(['import', `valkeys://localhost:${tlsPort}`, '--into', back, '--json'], trusted);
  assert.equal(imported.code, 0, imported.stderr);
  assert.equal(JSON.parse(imported.stdout).imported, 120);
  assert.deepEqual(await readStore(back), await readStore(file));
});

test('a server that requires a client certificate (redis-server\'s TLS default): one line that says so, exit 1, nothing written', { timeout: 120_000 }, async (t) => {
  const certs = certificates(tempDir(t));
  const tlsPort = await freePort();
  const setup = await serverAndStore(t, { [`${MARK}1`]: sessionFor(1) }, ['--tls-port', String(tlsPort), '--tls-cert-file', certs.cert,
    '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'yes']);
  if (!setup) return;
  const { client, file } = setup;
  const trusted = { env: { NODE_EXTRA_CA_CERTS: certs.ca } };
  for (const json of [false, true]) {
    const result = await cli(['migrate', file, '--to', `rediss://localhost:${tlsPort}`, ...(json ? ['--json'] : [])], trusted);
    assert.equal(result.code, 1, result.stderr);
    // OpenSSL's message spans two lines; the CLI's errors are one.
    assert.equal(result.stderr.split('\n').filter((line) => line !== '').length, 1, result.stderr);
    assert.match(result.stderr, /^error: cannot connect to rediss:\/\/localhost:\d+: .*certificate required.* client certificate/);
    if (json) assert.equal(JSON.parse(result.stdout).ok, false);
  }
  assert.equal(await client.dbSize(), 0);
});
