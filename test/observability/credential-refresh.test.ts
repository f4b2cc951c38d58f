// Provider credential refreshes (Azure Entra ID tokens) are visible: a counter by outcome and a log line, a failure at warn.
import assert from 'node:assert/strict';
import { channel } from 'node:diagnostics_channel';
import { after, before, test } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.js';

let gateway: TestGateway;
before(async () => {
  gateway = await startTestGateway();
});
after(() => gateway.close());

test('a refreshed and a refused credential are counted and logged, never with a secret', async () => {
  const refresh = channel('breakwater:providers:credential-refresh');
  refresh.publish({ provider: 'azure-east', kind: 'entra-client-credentials', outcome: 'success', expiresInSeconds: 3599 });
  refresh.publish({ provider: 'azure-east', kind: 'entra-client-credentials', outcome: 'failure', reason: '401 invalid_client' });
  const metrics = await (await fetch(`${gateway.url}/metrics`)).text();
  assert.match(metrics, /breakwater_provider_credential_refreshes_total\{provider="azure-east",kind="entra-client-credentials",outcome="success"\} 1/);
  assert.match(metrics, /breakwater_provider_credential_refreshes_total\{provider="azure-east",kind="entra-client-credentials",outcome="failure"\} 1/);
  const lines = gateway.logs.map((line) => JSON.parse(line) as Record<string, unknown>);
  const failed = lines.find((line) => line.msg === 'provider credential refresh failed');
  assert.equal(failed?.level, 40);
  assert.equal(failed?.reason, '401 invalid_client');
  assert.equal(lines.find((line) => line.msg === 'provider credential refreshed')?.expires_in_s, 3599);
});
