import { eventMatches } from '../core/event-pattern.js';
import { WEBHOOKS_EVENT_PREFIX } from '../core/webhooks.constants.js';
import type { WebhookEventFilterOptions } from '../core/webhooks.options.js';

const MAX_CACHED_EVENT_NAMES = 10_000;

/** Which event names may become webhooks (`events.include`/`exclude`; never the library's own `webhooks.*`). */
export class DeliverableEvents {
  private readonly verdicts = new Map<string, boolean>();

  constructor(private readonly filter: WebhookEventFilterOptions) {}

  has(eventName: string): boolean {
    let verdict = this.verdicts.get(eventName);
    if (verdict === undefined) {
      const { include, exclude } = this.filter;
      verdict =
        !eventName.startsWith(WEBHOOKS_EVENT_PREFIX) &&
        include.some((p) => eventMatches(p, eventName)) &&
        !exclude.some((p) => eventMatches(p, eventName));
      if (this.verdicts.size >= MAX_CACHED_EVENT_NAMES) this.verdicts.clear();
      this.verdicts.set(eventName, verdict);
    }
    return verdict;
  }
}
