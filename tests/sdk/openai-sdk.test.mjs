// The official OpenAI SDK against the gateway: each case runs on a route whose target
// speaks the Anthropic format (translated) and, as a control, on one that speaks OpenAI.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import OpenAI from 'openai';

const client = new OpenAI({ baseURL: `${process.env.SWITCHYARD_URL}/v1`, apiKey: 'sk-unused', maxRetries: 0 });

// The simulated upstreams generate "tok0 tok1 ..." and call the first tool offered
// with {"query":"tok0 tok1"}.
const expectedText = (count) => Array.from({ length: count }, (_, i) => `tok${i}`).join(' ');
const tools = [{
  type: 'function',
  function: { name: 'search', description: 'Search the web', parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } },
}];
const question = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: 'Hello there' }];

for (const [model, kind] of [['to-claude', 'Anthropic target (translated)'], ['to-gpu', 'OpenAI target (control)']]) {
  describe(`openai SDK, ${kind}`, () => {
    test('plain completion', async () => {
      const completion = await client.chat.completions.create({ model, messages: question, max_tokens: 4 });
      assert.equal(completion.object, 'chat.completion');
      assert.equal(completion.choices[0].message.role, 'assistant');
      assert.equal(completion.choices[0].message.content, expectedText(4));
      assert.equal(completion.choices[0].finish_reason, 'length');
      assert.equal(completion.usage.completion_tokens, 4);
      assert.ok(completion.usage.prompt_tokens > 0);
    });

    test('streamed completion with usage', async () => {
      const stream = await client.chat.completions.create({
        model, messages: question, max_tokens: 5, stream: true, stream_options: { include_usage: true },
      });
      let text = '';
      let finish = null;
      let usage = null;
      for await (const chunk of stream) {
        assert.equal(chunk.object, 'chat.completion.chunk');
        if (chunk.usage) usage = chunk.usage;
        const choice = chunk.choices[0];
        if (!choice) continue;
        text += choice.delta.content ?? '';
        finish = choice.finish_reason ?? finish;
      }
      assert.equal(text, expectedText(5));
      assert.equal(finish, 'length');
      assert.equal(usage.completion_tokens, 5);
    });

    test('tool call and tool result', async () => {
      const first = await client.chat.completions.create({ model, messages: question, max_tokens: 50, tools });
      const call = first.choices[0].message.tool_calls[0];
      assert.equal(first.choices[0].finish_reason, 'tool_calls');
      assert.equal(call.type, 'function');
      assert.equal(call.function.name, 'search');
      assert.deepEqual(JSON.parse(call.function.arguments), { query: 'tok0 tok1' });
      const second = await client.chat.completions.create({
        model, max_tokens: 3, tools,
        messages: [...question, first.choices[0].message, { role: 'tool', tool_call_id: call.id, content: 'Nothing found.' }],
      });
      assert.equal(second.choices[0].message.content, expectedText(3));
      assert.equal(second.choices[0].finish_reason, 'length');
    });

    test('streamed tool call, accumulated by the SDK', async () => {
      const runner = client.chat.completions.stream({ model, messages: question, max_tokens: 50, tools });
      const final = await runner.finalChatCompletion();
      const call = final.choices[0].message.tool_calls[0];
      assert.equal(final.choices[0].finish_reason, 'tool_calls');
      assert.equal(call.function.name, 'search');
      assert.deepEqual(JSON.parse(call.function.arguments), { query: 'tok0 tok1' });
    });
  });
}

describe('openai SDK, errors', () => {
  for (const model of ['refuse-claude', 'refuse-gpu']) {
    test(`an upstream 400 is a BadRequestError (${model})`, async () => {
      await assert.rejects(client.chat.completions.create({ model, messages: question, max_tokens: 3 }), (error) => {
        assert.ok(error instanceof OpenAI.BadRequestError, `got ${error?.constructor?.name}: ${error?.message}`);
        assert.equal(error.status, 400);
        assert.match(error.message, /simulated upstream failure/);
        return true;
      });
    });
  }

  test('an overloaded Anthropic target is an APIError the SDK can retry', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'overloaded-claude', messages: question, max_tokens: 3 }), (error) => {
      assert.ok(error instanceof OpenAI.InternalServerError, `got ${error?.constructor?.name}`);
      assert.equal(error.status, 502);
      return true;
    });
  });

  test('a streamed request to an unknown model is a NotFoundError', async () => {
    await assert.rejects(client.chat.completions.create({ model: 'no-such-model', messages: question, stream: true }), (error) => {
      assert.equal(error.status, 404);
      return true;
    });
  });
});

describe('openai SDK, fallback across formats', () => {
  test('a failing OpenAI target falls back to an Anthropic one, invisibly', async () => {
    const completion = await client.chat.completions.create({ model: 'gpu-then-claude', messages: question, max_tokens: 3 });
    assert.equal(completion.choices[0].message.content, expectedText(3));
    const stream = await client.chat.completions.create({ model: 'gpu-then-claude', messages: question, max_tokens: 3, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    assert.equal(text, expectedText(3));
  });
});
