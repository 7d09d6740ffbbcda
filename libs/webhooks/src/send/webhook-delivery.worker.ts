import { describeError } from '../core/describe-error.js';
import { Inject, Injectable, Logger } from '@nestjs/common';
import type { WebhookAttempt, WebhookAttemptRequest, WebhookAttemptResponse } from '../core/webhook-attempt.js';
import { WebhookClock } from '../core/clock.js';
import { StandardWebhookDialect } from '../dialects/standard.dialect.js';
import { WebhookDialectRegistry } from '../dialects/webhook-dialect.registry.js';
import type { PreparedWebhookRequest } from '../dialects/webhook-dialect.js';
import { WebhookDestinationError } from '../destinations/destination.errors.js';
import { WebhookDestinationValidator } from '../destinations/webhook-destination.validator.js';
import { WebhookEventPublisher } from '../core/webhook-event-publisher.js';
import { WebhookAttemptResolvedEvent, WebhookAttemptTriedEvent } from '../core/webhook-events.js';
import { type AttemptTryResult, WebhookStore } from '../storage/webhook-store.js';
import { DeliveryCredentials } from '../subscriptions/delivery-credentials.js';
import { SubscriptionRegistry } from '../subscriptions/subscription-registry.js';
import { WebhookSubscriptionManager } from '../subscriptions/webhook-subscription.manager.js';
import type { WebhookSubscription } from '../core/webhook-subscription.js';
import { AttemptMessages, WEBHOOKS_OPTIONS, WebhookEvents } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';
import { outgoingHeaderProblem, SIGNATURE_HEADERS } from '../subscriptions/outgoing-headers.js';
import { redactHeaders, redactUrl } from './redaction.js';
import { decideRetry, type TryOutcome } from './retry-policy.js';
import { SubscriptionHealth } from './subscription-health.js';
import { WebhookTransport, WebhookTransportError, type WebhookTransportResponse } from './transport/webhook-transport.js';
import { WebhookTracing } from '../tracing/webhook-tracing.js';
import type { TrySpan } from '../tracing/webhook-spans.js';

/** A dialect produced a header that may not be sent (framing, routing, proxy headers). */
function checkDialectHeaders(headers: Record<string, string>): void {
  for (const [name, value] of Object.entries(headers)) {
    if (SIGNATURE_HEADERS.has(name.toLowerCase())) continue;
    const problem = outgoingHeaderProblem(name, value);
    if (problem) throw new Error(`The dialect produced header "${name}", which ${problem}`);
  }
}

/**
 * Sends one try of one attempt and writes its outcome back: check the destination, let the dialect build and
 * sign the request with every live secret, send it through the transport, record the (redacted) request and
 * the (capped) response, then resolve the attempt or schedule its next try, and apply the health rules.
 */
@Injectable()
export class WebhookDeliveryWorker {
  private readonly logger = new Logger('WebhookDelivery');

  constructor(
    @Inject(WEBHOOKS_OPTIONS) private readonly options: ResolvedWebhooksOptions,
    private readonly subscriptions: WebhookSubscriptionManager,
    private readonly registry: SubscriptionRegistry,
    private readonly credentials: DeliveryCredentials,
    private readonly dialects: WebhookDialectRegistry,
    private readonly destinations: WebhookDestinationValidator,
    private readonly transport: WebhookTransport,
    private readonly store: WebhookStore,
    private readonly health: SubscriptionHealth,
    private readonly events: WebhookEventPublisher,
    private readonly clock: WebhookClock,
    private readonly tracing: WebhookTracing,
  ) {}

  /**
   * Delivers one try, with the subscription as the registry has it (the queue waits for the registry to have every
   * change committed before the try). Never throws; returns the attempt as stored afterwards (null if it was already
   * resolved meanwhile).
   */
  async deliver(attempt: WebhookAttempt, signal?: AbortSignal, requestDone?: () => void): Promise<WebhookAttempt | null> {
    try {
      const subscription = this.registry.active(attempt.subscriptionId) ?? (await this.subscriptions.get(attempt.subscriptionId));
      // A static subscription inactive here may be active in another process sharing the store: leave it to that one
      // (the claim runs out; this process's claims leave it out).
      if (subscription?.source === 'static' && !subscription.active && this.store.shared) return null;
      if (!subscription || !subscription.active) {
        // A try that ends the attempt: announced as resolved like any other (a deleted subscription took its attempts).
        const cancelled = await this.cancel(attempt, AttemptMessages.Cancelled, 'cancelled', null, subscription ?? undefined);
        if (cancelled && subscription) this.announceResolved(cancelled, subscription);
        return cancelled;
      }
      return await this.sendTry(attempt, subscription, signal, requestDone);
    } catch (error) {
      this.logger.error(`Delivery bookkeeping of attempt ${attempt.id} failed: ${describeError(error)}`);
      return null;
    }
  }

  /** A try in its span, active while the try runs (when something traces; tracing never throws here). */
  private async sendTry(attempt: WebhookAttempt, subscription: WebhookSubscription, signal?: AbortSignal, requestDone?: () => void): Promise<WebhookAttempt | null> {
    const span = this.tracing.startTry(attempt);
    if (!span) return this.trySend(attempt, subscription, null, signal, requestDone);
    let updated: WebhookAttempt | null;
    try {
      updated = await span.run(() => this.trySend(attempt, subscription, span, signal, requestDone));
    } catch (error) {
      span.end(null, error);
      throw error;
    }
    span.end(updated);
    return updated;
  }

  private async trySend(attempt: WebhookAttempt, subscription: WebhookSubscription, span: TrySpan | null, signal?: AbortSignal, requestDone?: () => void): Promise<WebhookAttempt | null> {
    const startedAt = this.clock.now();
    const started = performance.now();
    const number = attempt.tries + 1;
    let request: PreparedWebhookRequest | undefined;
    let recordedRequest: WebhookAttemptRequest | null = null;
    let response: WebhookTransportResponse | undefined;
    let failure: { message: string; errorCode: string; retryable: boolean; error: unknown } | undefined;

    try {
      const target = this.destinations.parseTarget(subscription.url);
      if (target.isIpLiteral) this.destinations.checkAddress(target.hostname, target.hostname);
      const { secrets, headers, unreadable } =
        this.credentials.cached(subscription.id) ?? (await this.credentials.of(subscription.id));
      if (secrets.length === 0) {
        // Never sent unsigned: the attempt fails with the reason (recoverable by a redelivery once it is fixed).
        if (unreadable) this.logger.error(`Signing secrets of subscription ${subscription.id} could not be decrypted: ${unreadable}`);
        const cancelled = await this.cancel(
          attempt,
          unreadable ? AttemptMessages.SigningSecretUnreadable : AttemptMessages.NoSigningSecret,
          unreadable ? 'secret-unreadable' : 'no-signing-secret',
          unreadable ?? null,
          subscription,
        );
        if (cancelled) this.announceResolved(cancelled, subscription);
        return cancelled;
      }
      const dialect = this.dialects.get(attempt.dialect);
      request = dialect.prepareRequest({
        webhookId: attempt.webhookId,
        attemptId: attempt.id,
        eventName: attempt.eventName,
        subscription,
        body: attempt.payload,
        secrets,
        headers,
        timestamp: startedAt,
      });
      // The standard dialect's own headers are fixed and a subscription's were checked when it was saved.
      if (dialect.constructor !== StandardWebhookDialect) checkDialectHeaders(request.headers);
      // After signing: the trace context headers are not part of what Standard Webhooks signs.
      if (span) request = span.sending(request);
      recordedRequest = {
        url: redactUrl(request.url),
        method: request.method,
        headers: redactHeaders(request.headers, subscription.headerNames),
        body: request.body,
        sentAt: startedAt,
      };
    } catch (error) {
      failure =
        error instanceof WebhookDestinationError
          ? { message: AttemptMessages.DestinationVerificationFailed, errorCode: error.code, retryable: !error.permanent, error }
          : { message: AttemptMessages.LocalError, errorCode: 'dialect', retryable: false, error };
    }

    let requestSent = false;
    if (request && !failure) {
      try {
        requestSent = true;
        const { method, url, headers, body } = request;
        const { timeoutMs, connectTimeoutMs, maxStoredResponseBytes: maxResponseBytes } = this.options.delivery;
        const send = () => this.transport.send({ method, url, headers, body }, { timeoutMs, connectTimeoutMs, maxResponseBytes, signal });
        response = await (span ? span.request(send) : send());
      } catch (error) {
        const code = error instanceof WebhookTransportError ? error.code : 'unknown';
        if (code === 'aborted') return null; // shutdown: the claim is released and the try happens later.
        // The guard refused the resolved address (permanent), or the name did not resolve (may recover).
        const destination = code === 'blocked-address' || code === 'unresolvable';
        failure = {
          message: destination ? AttemptMessages.DestinationVerificationFailed : AttemptMessages.RemoteError,
          errorCode: code,
          retryable: code !== 'blocked-address',
          error,
        };
      }
    }

    // The request is over: its slot may go to the next one while this outcome is recorded.
    requestDone?.();
    const now = this.clock.now();
    let recordedResponse: WebhookAttemptResponse | null = null;
    let outcome: TryOutcome;
    let message: string;
    let succeeded = false;
    if (response) {
      recordedResponse = {
        statusCode: response.statusCode,
        reason: response.reason,
        headers: redactHeaders(response.headers),
        body: response.body,
        truncated: response.truncated,
        elapsedMs: response.elapsedMs,
        receivedAt: now,
      };
      succeeded = response.statusCode >= 200 && response.statusCode < 300;
      message = `${response.statusCode} ${response.reason}`.trim();
      outcome = { statusCode: response.statusCode, errorCode: null, retryable: true, retryAfter: response.headers['retry-after'] };
    } else {
      message = failure!.message;
      outcome = { statusCode: null, errorCode: failure!.errorCode, retryable: failure!.retryable };
    }

    const schedule = subscription.retrySchedule ?? this.options.delivery.retrySchedule;
    const decision = succeeded ? { retry: false as const } : decideRetry(number, outcome, schedule, this.options.delivery, now);
    const result: AttemptTryResult = {
      status: succeeded ? 'successful' : decision.retry ? 'pending' : 'failed',
      message,
      request: recordedRequest,
      response: recordedResponse,
      try: {
        number,
        startedAt,
        elapsedMs: response?.elapsedMs ?? performance.now() - started,
        statusCode: response?.statusCode ?? null,
        message,
        errorCode: outcome.errorCode,
      },
      nextAttemptAt: decision.retry ? new Date(now.getTime() + decision.delayMs) : null,
      exception: failure ? describeError(failure.error) : null,
    };
    const updated = await this.store.recordTry(attempt, result, now);
    if (!updated) return null;
    this.announceTried(updated, result, subscription, requestSent);

    // A success with no failure streak to clear is the common case and needs no bookkeeping.
    if (!succeeded || subscription.failingSince !== null) await this.health.afterTry(subscription, succeeded);
    if (response?.statusCode === 410) await this.health.gone(subscription);
    if (updated.status !== 'pending') {
      // An active subscription is at hand in memory; only an inactive one is read from the store (no promise otherwise).
      this.announceResolved(updated, this.registry.active(subscription.id) ?? (await this.latest(subscription)));
    }
    return updated;
  }

  /** Announces a resolved attempt and applies the history rules. */
  async resolved(attempt: WebhookAttempt, subscription: WebhookSubscription): Promise<void> {
    this.announceResolved(attempt, this.registry.active(subscription.id) ?? (await this.latest(subscription)));
  }

  private announceTried(attempt: WebhookAttempt, result: AttemptTryResult, subscription: WebhookSubscription, requestSent: boolean): void {
    const outcome = result.status === 'successful' ? 'successful' : result.status === 'pending' ? 'retrying' : 'failed';
    this.events.emit(WebhookEvents.AttemptTried, new WebhookAttemptTriedEvent(attempt, result.try, subscription, outcome, requestSent));
  }

  private announceResolved(attempt: WebhookAttempt, subscription: WebhookSubscription): void {
    this.health.afterResolved(attempt);
    const succeeded = attempt.status === 'successful';
    this.events.emit(
      succeeded ? WebhookEvents.AttemptSucceeded : WebhookEvents.AttemptFailed,
      new WebhookAttemptResolvedEvent(attempt, subscription, succeeded),
    );
  }

  /** The subscription as stored now (it may have been deactivated meanwhile), or as the worker had it. */
  private async latest(subscription: WebhookSubscription): Promise<WebhookSubscription> {
    return (await this.subscriptions.get(subscription.id)) ?? subscription;
  }

  /** Resolves the attempt as failed without sending anything. */
  private async cancel(attempt: WebhookAttempt, message: string, errorCode: string, exception: string | null = null, subscription?: WebhookSubscription): Promise<WebhookAttempt | null> {
    const now = this.clock.now();
    const result: AttemptTryResult = {
      status: 'failed',
      message,
      request: null,
      response: null,
      try: { number: attempt.tries + 1, startedAt: now, elapsedMs: 0, statusCode: null, message, errorCode },
      nextAttemptAt: null,
      exception,
    };
    const updated = await this.store.recordTry(attempt, result, now);
    if (updated && subscription) this.announceTried(updated, result, subscription, false);
    return updated;
  }
}
