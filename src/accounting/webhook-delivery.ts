// Delivers alerts to a webhook: POST JSON with a timeout, retried with exponential backoff; an alert that still
// cannot be delivered is written to a dead-letter file (and logged) so nobody loses it.
import { appendFile, mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { alertDelivery } from './accounting-events.js';

export interface WebhookOptions {
  url: string;
  headers?: Record<string, string>;
  timeoutMs: number;
  attempts: number;
  backoffMs: number;
  deadLetterPath: string;
  gatewayId: number;
  sleep?: (ms: number) => Promise<void>;
  onDeadLetter?: (payload: unknown, error: string) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms).unref());

export class WebhookDelivery {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly pending = new Set<Promise<void>>();

  constructor(private readonly options: WebhookOptions) {
    this.sleep = options.sleep ?? defaultSleep;
  }

  /** Starts a delivery in the background (alerts never slow a request down). */
  send(payload: unknown): void {
    const delivery = this.deliver(payload).finally(() => this.pending.delete(delivery));
    this.pending.add(delivery);
  }

  /** Waits for deliveries in progress (shutdown, tests). */
  async settle(): Promise<void> {
    await Promise.all([...this.pending]);
  }

  async deliver(payload: unknown): Promise<void> {
    const body = JSON.stringify(payload);
    let lastError = '';
    for (let attempt = 1; attempt <= this.options.attempts; attempt++) {
      try {
        const response = await fetch(this.options.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...this.options.headers },
          body,
          signal: AbortSignal.timeout(this.options.timeoutMs),
          redirect: 'error',
        });
        await response.body?.cancel();
        if (response.ok) {
          this.publish('delivered');
          return;
        }
        lastError = `HTTP ${response.status}`;
      } catch (error) {
        lastError = error instanceof Error ? error.message : String(error);
      }
      if (attempt < this.options.attempts) {
        this.publish('retried');
        await this.sleep(this.options.backoffMs * 2 ** (attempt - 1));
      }
    }
    await this.deadLetter(payload, lastError);
  }

  private async deadLetter(payload: unknown, error: string): Promise<void> {
    this.publish('dead-lettered');
    this.options.onDeadLetter?.(payload, error);
    try {
      await mkdir(dirname(this.options.deadLetterPath), { recursive: true });
      await appendFile(this.options.deadLetterPath, JSON.stringify({ at: new Date().toISOString(), url: this.options.url, error, payload }) + '\n', { mode: 0o600 });
    } catch {
      // The log line from onDeadLetter is the record of last resort.
    }
  }

  private publish(outcome: 'delivered' | 'retried' | 'dead-lettered'): void {
    alertDelivery.publish({ gatewayId: this.options.gatewayId, channel: 'webhook', outcome });
  }
}
