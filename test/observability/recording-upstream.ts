// Test helper for the tracing tests: a tiny OpenAI-compatible upstream that records the headers it received and can
// fail the next N calls.
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny OpenAI-compatible upstream that records what it received and can fail the next N calls. */
export class RecordingUpstream {
  readonly received: IncomingHttpHeaders[] = [];
  failNext = 0;
  private readonly server: Server = createServer((request, response) => {
    let body = '';
    request.on('data', (part: Buffer) => (body += part.toString('utf8')));
    request.on('end', () => {
      this.received.push(request.headers);
      if (this.failNext > 0) {
        this.failNext--;
        response.writeHead(503, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'busy', type: 'server_error', code: null } }));
        return;
      }
      const parsed = JSON.parse(body) as { model: string; stream?: boolean };
      const usage = { prompt_tokens: 7, completion_tokens: 3, total_tokens: 10 };
      if (parsed.stream) {
        response.writeHead(200, { 'content-type': 'text/event-stream' });
        const chunk = (delta: object, finish: string | null, extra: object = {}) =>
          `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: parsed.model, choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
        response.write(chunk({ role: 'assistant', content: 'Hel' }, null));
        response.write(chunk({ content: 'lo' }, 'stop'));
        response.write(`data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: parsed.model, choices: [], usage })}\n\n`);
        response.end('data: [DONE]\n\n');
        return;
      }
      response.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 1,
          model: parsed.model,
          choices: [{ index: 0, message: { role: 'assistant', content: 'Hello' }, finish_reason: 'stop' }],
          usage,
        }),
      );
    });
  });

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/v1`;
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}
