const MAX_REMEMBERED = 100_000;

/**
 * Scheme + host + port of a URL: the unit of per-endpoint limits, parsed once per URL. Also remembers the endpoint
 * of each subscription seen, to tell the store which subscriptions to leave out of a claim.
 */
export class EndpointKeys {
  private readonly byUrl = new Map<string, string>();
  private readonly bySubscription = new Map<string, string>();

  of(url: string): string {
    let endpoint = this.byUrl.get(url);
    if (endpoint === undefined) {
      try {
        const { protocol, host } = new URL(url);
        endpoint = `${protocol}//${host}`;
      } catch {
        endpoint = url;
      }
      if (this.byUrl.size >= 10_000) this.byUrl.clear();
      this.byUrl.set(url, endpoint);
    }
    return endpoint;
  }

  remember(subscriptionId: string, endpoint: string): void {
    if (this.bySubscription.size > MAX_REMEMBERED) this.bySubscription.clear();
    this.bySubscription.set(subscriptionId, endpoint);
  }

  /** Subscriptions seen for these endpoints. */
  subscriptionsOf(endpoints: ReadonlySet<string>): string[] {
    if (endpoints.size === 0) return [];
    const ids: string[] = [];
    for (const [subscriptionId, endpoint] of this.bySubscription) if (endpoints.has(endpoint)) ids.push(subscriptionId);
    return ids;
  }
}
