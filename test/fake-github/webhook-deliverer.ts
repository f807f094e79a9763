import { createHmac, randomUUID } from 'node:crypto';
import { sign } from '@octokit/webhooks-methods';

export type DeliveryState = 'queued' | 'delivered' | 'failed' | 'dropped' | 'skipped';

export interface WebhookDelivery {
  /** `X-GitHub-Delivery`; a duplicate or redelivery reuses the original's id, as GitHub does. */
  readonly id: string;
  readonly event: string;
  readonly action: string | null;
  readonly payload: Readonly<Record<string, unknown>>;
  /** Exactly the bytes that were signed and sent. */
  readonly body: string;
  readonly duplicate: boolean;
  readonly redelivery: boolean;
  state: DeliveryState;
  /** HTTP status the app answered with; null when not sent or the connection failed. */
  status: number | null;
  error: string | null;
}

/** Selects deliveries: `'pull_request'`, `'pull_request.closed'`, or a predicate. */
export type DeliveryMatcher =
  string | ((delivery: { event: string; action: string | null }) => boolean);

export interface WebhookTarget {
  url: string | null;
  secret: string;
}

/** GitHub gives up on a delivery after 10 s. See https://docs.github.com/en/webhooks/using-webhooks/best-practices-for-using-webhooks#respond-within-10-seconds */
const DELIVERY_TIMEOUT_MS = 10_000;
const HOOK_ID = '424242';

function matches(matcher: DeliveryMatcher | undefined, event: string, action: string | null) {
  if (matcher === undefined) return true;
  if (typeof matcher === 'function') return matcher({ event, action });
  const [wantedEvent, wantedAction] = matcher.split('.');
  return wantedEvent === event && (wantedAction === undefined || wantedAction === action);
}

/**
 * Sends webhooks the way GitHub's "Hookshot" does: JSON body, HMAC signatures
 * (`X-Hub-Signature-256` via `@octokit/webhooks-methods`, plus the legacy SHA-1 header),
 * delivery GUID, hook and app target headers. Deliveries go out one at a time in the order
 * they happened, so tests are deterministic; GitHub itself does not promise an order.
 */
export class WebhookDeliverer {
  readonly deliveries: WebhookDelivery[] = [];
  readonly #target: WebhookTarget;
  readonly #appId: number;
  readonly #queue: WebhookDelivery[] = [];
  readonly #drops: Array<DeliveryMatcher | undefined> = [];
  readonly #duplicates: Array<DeliveryMatcher | undefined> = [];
  readonly #idleWaiters: Array<() => void> = [];
  #running = false;

  constructor(target: WebhookTarget, appId: number) {
    this.#target = target;
    this.#appId = appId;
  }

  get target(): WebhookTarget {
    return this.#target;
  }

  get busy(): boolean {
    return this.#running || this.#queue.length > 0;
  }

  /** The next delivery that matches is recorded as `dropped` and never sent. */
  dropNext(matcher?: DeliveryMatcher): void {
    this.#drops.push(matcher);
  }

  /** The next delivery that matches is sent twice with the same delivery id. */
  duplicateNext(matcher?: DeliveryMatcher): void {
    this.#duplicates.push(matcher);
  }

  enqueue(event: string, payload: Record<string, unknown>): WebhookDelivery {
    const action = typeof payload['action'] === 'string' ? payload['action'] : null;
    const id = randomUUID();
    const body = JSON.stringify(payload);
    const dropIndex = this.#drops.findIndex((m) => matches(m, event, action));
    const dropped = dropIndex !== -1;
    if (dropped) this.#drops.splice(dropIndex, 1);
    const delivery = this.#record({
      id,
      event,
      action,
      payload,
      body,
      duplicate: false,
      redelivery: false,
    });
    if (dropped) {
      delivery.state = 'dropped';
      return delivery;
    }
    this.#queue.push(delivery);
    const dupIndex = this.#duplicates.findIndex((m) => matches(m, event, action));
    if (dupIndex !== -1) {
      this.#duplicates.splice(dupIndex, 1);
      this.#queue.push(
        this.#record({ id, event, action, payload, body, duplicate: true, redelivery: false }),
      );
    }
    this.#pump();
    return delivery;
  }

  /** Sends an earlier delivery again with its original id, like "Redeliver" in GitHub's UI. */
  redeliver(id: string): WebhookDelivery {
    const original = this.deliveries.find((delivery) => delivery.id === id);
    if (original === undefined) throw new Error(`No delivery with id ${id}`);
    const again = this.#record({ ...original, duplicate: false, redelivery: true });
    this.#queue.push(again);
    this.#pump();
    return again;
  }

  /** Resolves once every queued delivery has been answered (or has failed). */
  idle(): Promise<void> {
    if (!this.busy) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #record(fields: Omit<WebhookDelivery, 'state' | 'status' | 'error'>): WebhookDelivery {
    const delivery: WebhookDelivery = { ...fields, state: 'queued', status: null, error: null };
    this.deliveries.push(delivery);
    return delivery;
  }

  #pump(): void {
    if (this.#running) return;
    this.#running = true;
    void (async () => {
      try {
        for (let next = this.#queue.shift(); next !== undefined; next = this.#queue.shift()) {
          await this.#send(next);
        }
      } finally {
        this.#running = false;
        for (const resolve of this.#idleWaiters.splice(0)) resolve();
      }
    })();
  }

  async #send(delivery: WebhookDelivery): Promise<void> {
    const { url, secret } = this.#target;
    if (url === null) {
      delivery.state = 'skipped';
      return;
    }
    try {
      const response = await fetch(url, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'user-agent': 'GitHub-Hookshot/fake',
          'x-github-event': delivery.event,
          'x-github-delivery': delivery.id,
          'x-github-hook-id': HOOK_ID,
          'x-github-hook-installation-target-type': 'integration',
          'x-github-hook-installation-target-id': String(this.#appId),
          'x-hub-signature': `sha1=${createHmac('sha1', secret).update(delivery.body).digest('hex')}`,
          'x-hub-signature-256': await sign(secret, delivery.body),
        },
        body: delivery.body,
        signal: AbortSignal.timeout(DELIVERY_TIMEOUT_MS),
      });
      await response.arrayBuffer();
      delivery.status = response.status;
      delivery.state = response.ok ? 'delivered' : 'failed';
    } catch (error) {
      delivery.state = 'failed';
      delivery.error = error instanceof Error ? error.message : String(error);
    }
  }
}
