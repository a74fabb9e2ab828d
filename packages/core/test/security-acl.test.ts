// Unit tests of the pure security pieces: ACL evaluation (Mesos semantics, Agora's default
// deny per configured action), credentials files, the per-call authentication decision.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  authenticateCall, authorize, compileServerSecurity, credentialHeader, grpc, parseAcls, parseCredentials, secretsEqual, AUTHORIZATION_KEY,
} from '../src/index.js';

const acls = parseAcls(JSON.stringify({
  register_frameworks: [
    { principals: { values: ['web'] }, roles: { values: ['web'] } },
    { principals: { values: ['banned'] }, roles: { type: 'NONE' } },
    { principals: { type: 'ANY' }, roles: { values: ['*'] } },
  ],
}));

test('ACLs: the first matching rule decides; NONE denies; unmatched requests of a configured action are denied', () => {
  assert.equal(authorize(acls, 'register_frameworks', 'web', 'web').allowed, true);
  assert.equal(authorize(acls, 'register_frameworks', 'web', '*').allowed, true, 'falls through to the ANY rule');
  assert.equal(authorize(acls, 'register_frameworks', 'banned', '*').allowed, false, 'NONE matches first and denies');
  const prod = authorize(acls, 'register_frameworks', 'web', 'prod');
  assert.equal(prod.allowed, false);
  assert.match(prod.reason, /principal 'web' is not allowed to register frameworks in role 'prod' \(no register_frameworks ACL matches; the default is deny\)/);
  // An action the file does not mention stays allowed; `permissive` overrides both ways.
  assert.equal(authorize(acls, 'run_tasks', 'web', 'root').allowed, true);
  assert.equal(authorize(parseAcls('{"permissive": false}'), 'run_tasks', 'web', 'root').allowed, false);
  assert.equal(authorize(parseAcls('{"permissive": true, "run_tasks": []}'), 'run_tasks', 'web', 'root').allowed, true);
  assert.equal(authorize(undefined, 'run_tasks', 'web', 'root').allowed, true, 'no ACLs: allowed');
});

test('ACLs: an unauthenticated request matches only ANY subjects', () => {
  assert.equal(authorize(acls, 'register_frameworks', undefined, '*').allowed, true);
  assert.equal(authorize(acls, 'register_frameworks', undefined, 'web').allowed, false);
  const only = parseAcls('{"run_tasks": [{"principals": {"values": ["ops"]}, "users": {"type": "ANY"}}]}');
  assert.match(authorize(only, 'run_tasks', undefined, 'root').reason, /an unauthenticated client is not allowed to run tasks as user 'root'/);
});

test('ACL files: bad input is refused with the place at fault', () => {
  assert.throws(() => parseAcls('{"launch_rockets": []}'), /unknown action 'launch_rockets'/);
  assert.throws(() => parseAcls('{"run_tasks": [{"principals": {"type": "SOME"}, "users": {"type": "ANY"}}]}'), /run_tasks\[0\]\.principals\.type must be "ANY" or "NONE"/);
  assert.throws(() => parseAcls('{"run_tasks": [{"principals": {"type": "ANY"}, "roles": {"type": "ANY"}}]}'), /unknown field 'roles' \(expected principals and users\)/);
  assert.throws(() => parseAcls('{"run_tasks": '), /not valid JSON/);
});

test('credentials files: JSON (Mesos) and text forms; duplicates and bad lines refused', () => {
  assert.deepEqual(parseCredentials('{"credentials": [{"principal": "a", "secret": "x"}]}'), [{ principal: 'a', secret: 'x' }]);
  assert.deepEqual(parseCredentials('# comment\na x\n\nb  y\n'), [{ principal: 'a', secret: 'x' }, { principal: 'b', secret: 'y' }]);
  assert.throws(() => parseCredentials('a x\na y\n'), /principal 'a' is listed twice/);
  assert.throws(() => parseCredentials('a\n', 'creds'), /creds:1: expected 'principal secret'/);
  assert.equal(secretsEqual('s3cret', 's3cret'), true);
  assert.equal(secretsEqual('s3cret', 's3creT'), false);
  assert.equal(secretsEqual('short', 'a much longer secret'), false);
});

test('authentication decision per call: missing, wrong, plaintext-from-afar, certificates, public methods', () => {
  const sec = compileServerSecurity({ credentials: [{ principal: 'web', secret: 'good' }], publicMethods: ['/agora.v1.Operator/GetHealth'], name: 'this master' });
  const md = (principal?: string, secret?: string): grpc.Metadata => {
    const m = new grpc.Metadata();
    if (principal) m.set(AUTHORIZATION_KEY, credentialHeader({ principal, secret: secret ?? '' }));
    return m;
  };
  const plain = { tls: false, certPrincipal: undefined, certError: undefined };
  const call = '/agora.v1.Scheduler/Connect';
  assert.deepEqual(authenticateCall(sec, call, md('web', 'good'), plain, '127.0.0.1'), { principal: 'web' });
  assert.match((authenticateCall(sec, call, md('web', 'bad'), plain, '127.0.0.1') as { details: string }).details, /^principal web: wrong secret$/);
  assert.match((authenticateCall(sec, call, md(), plain, '127.0.0.1') as { details: string }).details, /^no credentials: this master requires authentication/);
  assert.match((authenticateCall(sec, call, md('web', 'good'), plain, '10.0.0.5') as { details: string }).details, /sent without TLS from 10\.0\.0\.5/);
  assert.deepEqual(authenticateCall(sec, '/agora.v1.Operator/GetHealth', md(), plain, '127.0.0.1'), { principal: '' });
  assert.deepEqual(authenticateCall(sec, call, md(), { tls: true, certPrincipal: 'agent', certError: undefined }, '10.0.0.5'), { principal: 'agent' });
  assert.match((authenticateCall(sec, call, md(), { tls: true, certPrincipal: undefined, certError: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' }, '10.0.0.5') as { details: string }).details,
    /^certificate not signed by the cluster CA \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\)$/);
  // A forged principal header is not a credential.
  const forged = new grpc.Metadata();
  forged.set('x-agora-principal', 'web');
  assert.equal((authenticateCall(sec, call, forged, plain, '127.0.0.1') as { code: number }).code, grpc.status.UNAUTHENTICATED);
});
