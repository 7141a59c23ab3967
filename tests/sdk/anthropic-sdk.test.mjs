// The official Anthropic SDK against the gateway: each case runs on a route whose target
// speaks the OpenAI format (translated) and, as a control, on one that speaks Anthropic.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';

const client = new Anthropic({ baseURL: process.env.SWITCHYARD_URL, apiKey: 'sk-unused', maxRetries: 0 });

const expectedText = (count) => Array.from({ length: count }, (_, i) => `tok${i}`).join(' ');
const tools = [{
  name: 'search', description: 'Search the web',
  input_schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
}];
const question = [{ role: 'user', content: 'Hello there' }];

for (const [model, kind] of [['to-gpu', 'OpenAI target (translated)'], ['to-claude', 'Anthropic target (control)']]) {
  describe(`@anthropic-ai/sdk, ${kind}`, () => {
    test('plain message', async () => {
      const message = await client.messages.create({ model, system: 'Be brief.', messages: question, max_tokens: 4 });
      assert.equal(message.type, 'message');
      assert.equal(message.role, 'assistant');
      assert.equal(message.content[0].type, 'text');
      assert.equal(message.content[0].text, expectedText(4));
      assert.equal(message.stop_reason, 'max_tokens');
      assert.equal(message.usage.output_tokens, 4);
      assert.ok(message.usage.input_tokens > 0);
    });

    test('streamed message', async () => {
      const stream = client.messages.stream({ model, system: 'Be brief.', messages: question, max_tokens: 5 });
      let text = '';
      stream.on('text', (delta) => { text += delta; });
      const final = await stream.finalMessage();
      assert.equal(text, expectedText(5));
      assert.equal(final.content[0].text, expectedText(5));
      assert.equal(final.stop_reason, 'max_tokens');
      assert.equal(final.usage.output_tokens, 5);
    });

    test('tool use and tool result', async () => {
      const first = await client.messages.create({ model, messages: question, max_tokens: 50, tools });
      assert.equal(first.stop_reason, 'tool_use');
      const use = first.content.find((block) => block.type === 'tool_use');
      assert.equal(use.name, 'search');
      assert.deepEqual(use.input, { query: 'tok0 tok1' });
      const second = await client.messages.create({
        model, max_tokens: 3, tools,
        messages: [...question, { role: 'assistant', content: first.content },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'Nothing found.' }] }],
      });
      assert.equal(second.content[0].text, expectedText(3));
    });

    test('streamed tool use, input accumulated by the SDK', async () => {
      const stream = client.messages.stream({ model, messages: question, max_tokens: 50, tools });
      const final = await stream.finalMessage();
      assert.equal(final.stop_reason, 'tool_use');
      const use = final.content.find((block) => block.type === 'tool_use');
      assert.equal(use.name, 'search');
      assert.deepEqual(use.input, { query: 'tok0 tok1' });
    });
  });
}

describe('@anthropic-ai/sdk, errors', () => {
  for (const model of ['refuse-gpu', 'refuse-claude']) {
    test(`an upstream 400 is a BadRequestError (${model})`, async () => {
      await assert.rejects(client.messages.create({ model, messages: question, max_tokens: 3 }), (error) => {
        assert.ok(error instanceof Anthropic.BadRequestError, `got ${error?.constructor?.name}: ${error?.message}`);
        assert.equal(error.status, 400);
        assert.match(error.message, /simulated upstream failure/);
        return true;
      });
    });
  }

  test('a missing max_tokens is refused in Anthropic shape before any upstream', async () => {
    await assert.rejects(client.messages.create({ model: 'to-gpu', messages: question }), (error) => {
      assert.ok(error instanceof Anthropic.BadRequestError);
      assert.match(error.message, /max_tokens/);
      return true;
    });
  });
});

describe('@anthropic-ai/sdk, fallback across formats', () => {
  test('a failing Anthropic target falls back to an OpenAI one, invisibly', async () => {
    const message = await client.messages.create({ model: 'claude-then-gpu', messages: question, max_tokens: 3 });
    assert.equal(message.content[0].text, expectedText(3));
    const final = await client.messages.stream({ model: 'claude-then-gpu', messages: question, max_tokens: 3 }).finalMessage();
    assert.equal(final.content[0].text, expectedText(3));
    assert.equal(final.stop_reason, 'max_tokens');
  });
});
