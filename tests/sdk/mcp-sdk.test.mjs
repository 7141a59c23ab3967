// The official MCP TypeScript SDK on both sides of the gateway: an SDK McpServer
// (StreamableHTTPServerTransport on a Node http server) behind a real `switchyard
// --headless`, and an SDK Client (StreamableHTTPClientTransport) on /mcp/files with a
// virtual key. The client lists tools (narrowed to its key's allow-list), calls one,
// receives a progress notification on the call's event stream before the result (the
// tool waits for the client to have seen it, so a gateway that buffered the stream
// would never answer), is refused a forbidden tool, and a key without access to the
// server is refused with a 403 naming it. Run by run-sdk-tests.sh (ctest sdk.mcp) with
// SWITCHYARD_BINARY set.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

const AGENT_KEY = 'sk-mcp-sdk-agent-000001';
const OUTSIDER_KEY = 'sk-mcp-sdk-outsider-002';
const UPSTREAM_TOKEN = 'Bearer sdk-upstream-token-42';
const DEADLINE_MS = 20000;

// What the upstream saw: the Authorization of every request, and the tools it ran.
const seenAuthorization = [];
const toolRuns = { echo: 0, slow_count: 0, delete_everything: 0 };
let progressSeenByClient = () => {};

function withDeadline(promise, what) {
  let timer;
  const deadline = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${DEADLINE_MS} ms`)), DEADLINE_MS);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function newMcpServer() {
  const server = new McpServer({ name: 'sdk-files', version: '1.0.0' });
  server.registerTool('echo', { description: 'Echoes its text', inputSchema: { text: z.string() } }, async ({ text }) => {
    toolRuns.echo += 1;
    return { content: [{ type: 'text', text: `echo: ${text}` }] };
  });
  server.registerTool('slow_count', { description: 'Reports progress', inputSchema: { n: z.number() } },
    async ({ n }, extra) => {
      toolRuns.slow_count += 1;
      const clientSawIt = new Promise((resolve) => { progressSeenByClient = resolve; });
      await extra.sendNotification({
        method: 'notifications/progress',
        params: { progressToken: extra._meta?.progressToken, progress: 1, total: n, message: 'half way' },
      });
      // Only once the notification went through the gateway to the client.
      await withDeadline(clientSawIt, 'progress notification through the gateway');
      return { content: [{ type: 'text', text: `counted to ${n}` }] };
    });
  server.registerTool('delete_everything', { description: 'Forbidden to the agent' }, async () => {
    toolRuns.delete_everything += 1;
    return { content: [{ type: 'text', text: 'deleted' }] };
  });
  return server;
}

// Stateful SDK server: one transport per session, as the SDK's examples do.
const transports = new Map();
const upstream = http.createServer(async (req, res) => {
  seenAuthorization.push(req.headers.authorization);
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  const body = chunks.length > 0 ? JSON.parse(Buffer.concat(chunks).toString()) : undefined;
  const sessionId = req.headers['mcp-session-id'];
  let transport = sessionId ? transports.get(sessionId) : undefined;
  if (!transport) {
    if (req.method !== 'POST' || body?.method !== 'initialize') {
      res.writeHead(sessionId ? 404 : 400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
      return;
    }
    transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => transports.set(id, transport),
    });
    transport.onclose = () => transports.delete(transport.sessionId);
    await newMcpServer().connect(transport);
  }
  await transport.handleRequest(req, res, body);
});

let gateway;
let gatewayUrl;
let workDir;

function startGateway(upstreamPort) {
  workDir = mkdtempSync(join(tmpdir(), 'switchyard-mcp-sdk-'));
  const config = join(workDir, 'policy.yaml');
  writeFileSync(config, [
    'gateway: {listen: "127.0.0.1:0", threads: 1}',
    'providers: []',
    'routes: []',
    'mcp_servers:',
    '  - name: files',
    `    urls: ["http://127.0.0.1:${upstreamPort}/mcp"]`,
    `    headers: {Authorization: "${UPSTREAM_TOKEN}"}`,
    '  - name: other',
    `    urls: ["http://127.0.0.1:${upstreamPort}/mcp"]`,
    'virtual_keys:',
    `  - {name: sdk-agent, key: ${AGENT_KEY}, mcp_servers: [files], mcp_tools: {files: [echo, slow_count]}}`,
    `  - {name: outsider, key: ${OUTSIDER_KEY}, mcp_servers: [other]}`,
    '',
  ].join('\n'));
  const environment = { ...process.env };
  delete environment.DISPLAY;
  delete environment.WAYLAND_DISPLAY;
  gateway = spawn(process.env.SWITCHYARD_BINARY,
    ['--headless', '--config', config, '--data-dir', join(workDir, 'data')], { env: environment });
  return withDeadline(new Promise((resolve, reject) => {
    let output = '';
    gateway.stdout.on('data', (data) => {
      output += data;
      const match = output.match(/msg="listening" url=(http:\/\/[^ ]*:\d+)\/v1/);
      if (match) resolve(match[1]);
    });
    gateway.stderr.on('data', (data) => { output += data; });
    gateway.on('exit', (code) => reject(new Error(`switchyard exited (${code}) before listening:\n${output}`)));
  }), 'switchyard start-up');
}

function clientFor(key) {
  const transport = new StreamableHTTPClientTransport(new URL(`${gatewayUrl}/mcp/files`), {
    requestInit: { headers: { Authorization: `Bearer ${key}` } },
  });
  return { transport, client: new Client({ name: 'switchyard-sdk-test', version: '1.0.0' }) };
}

before(async () => {
  assert.ok(process.env.SWITCHYARD_BINARY, 'SWITCHYARD_BINARY must name the switchyard executable');
  await new Promise((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  gatewayUrl = await startGateway(upstream.address().port);
});

after(async () => {
  if (gateway && gateway.exitCode === null && gateway.signalCode === null) {
    const exited = new Promise((resolve) => gateway.once('exit', resolve));
    gateway.kill('SIGTERM');
    await withDeadline(exited, 'switchyard shutdown');
  }
  upstream.closeAllConnections?.();
  await new Promise((resolve) => upstream.close(resolve));
  if (workDir) rmSync(workDir, { recursive: true, force: true });
});

describe('MCP SDK through the gateway', () => {
  test('lists, calls, streams progress and is refused a forbidden tool', async () => {
    const { transport, client } = clientFor(AGENT_KEY);
    await withDeadline(client.connect(transport), 'initialize');
    assert.ok(transport.sessionId, 'the upstream session id reaches the client');

    const { tools } = await withDeadline(client.listTools(), 'tools/list');
    assert.deepEqual(tools.map((tool) => tool.name).sort(), ['echo', 'slow_count']);

    const echoed = await withDeadline(client.callTool({ name: 'echo', arguments: { text: 'hello' } }), 'tools/call echo');
    assert.equal(echoed.content[0].text, 'echo: hello');

    const progress = [];
    const counted = await withDeadline(client.callTool({ name: 'slow_count', arguments: { n: 2 } }, undefined, {
      onprogress: (update) => { progress.push(update); progressSeenByClient(); },
    }), 'tools/call slow_count');
    assert.equal(counted.content[0].text, 'counted to 2');
    assert.equal(progress.length, 1);
    assert.equal(progress[0].progress, 1);
    assert.equal(progress[0].message, 'half way');

    await assert.rejects(client.callTool({ name: 'delete_everything', arguments: {} }), (error) => {
      assert.ok(error instanceof McpError, `an McpError, not ${error}`);
      assert.equal(error.code, -32602);
      assert.match(error.message, /delete_everything/);
      return true;
    });
    assert.equal(toolRuns.delete_everything, 0, 'the forbidden tool never reached the server');
    assert.equal(toolRuns.echo, 1);
    assert.equal(toolRuns.slow_count, 1);

    await withDeadline(transport.terminateSession(), 'DELETE');
    await client.close();
    assert.ok(seenAuthorization.length > 0);
    assert.ok(seenAuthorization.every((value) => value === UPSTREAM_TOKEN),
      'the upstream sees its own credentials, never the client\'s virtual key');
  });

  test('a key without access to the server is refused with a 403 naming it', async () => {
    const { transport, client } = clientFor(OUTSIDER_KEY);
    await assert.rejects(withDeadline(client.connect(transport), 'refused initialize'), (error) => {
      // StreamableHTTPError carries the HTTP status as its code, the body in its message.
      assert.equal(error.code, 403, String(error));
      assert.match(String(error.message), /MCP server 'files'/);
      assert.match(String(error.message), /'outsider'/);
      return true;
    });
  });
});
