import { timingSafeEqual } from 'node:crypto';
import { Webhook } from 'standardwebhooks';

/** What the verification of one request found. */
export interface VerificationResult {
  verified: boolean;
  error: string | null;
}

/**
 * Checks a Standard Webhooks signature with the `standardwebhooks` package's signer, against any of several
 * secrets. Its `verify()` is not used as a whole because it reads the wall clock: the library signs with its own
 * clock, and a test that moves `WebhookTestClock` past the 5 minute tolerance would see every later try rejected as
 * "too new". Here the timestamp is checked against the clock the receiver is given.
 */
export class StandardWebhooksVerifier {
  private readonly signers: Webhook[];

  constructor(
    secrets: readonly string[],
    private readonly now: () => Date,
    private readonly toleranceSeconds = 5 * 60,
  ) {
    this.signers = secrets.map((secret) => new Webhook(secret));
  }

  verify(headers: Readonly<Record<string, string>>, body: string): VerificationResult {
    const id = headers['webhook-id'];
    const timestamp = headers['webhook-timestamp'];
    const signature = headers['webhook-signature'];
    if (!id || !timestamp || !signature) return { verified: false, error: 'missing webhook-id, webhook-timestamp or webhook-signature' };
    const seconds = /^\d+$/.test(timestamp) ? Number(timestamp) : Number.NaN;
    if (!Number.isSafeInteger(seconds)) return { verified: false, error: `webhook-timestamp "${timestamp}" is not a number of seconds` };
    const skew = seconds - Math.floor(this.now().getTime() / 1000);
    if (Math.abs(skew) > this.toleranceSeconds) return { verified: false, error: `webhook-timestamp is ${skew} s from the receiver's clock` };
    const given = signature.split(' ').flatMap((entry) => (entry.startsWith('v1,') ? [Buffer.from(entry.slice(3))] : []));
    for (const signer of this.signers) {
      const expected = Buffer.from(signer.sign(id, new Date(seconds * 1000), body).slice(3));
      if (given.some((candidate) => candidate.length === expected.length && timingSafeEqual(candidate, expected))) return { verified: true, error: null };
    }
    return { verified: false, error: 'no signature matches the secrets' };
  }
}
