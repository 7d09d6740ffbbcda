import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { WEBHOOKS_OPTIONS } from '../core/webhooks.constants.js';
import type { ResolvedWebhooksOptions } from '../core/webhooks.options.js';

const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A key for one use, from the root key: sealing and signing never share a key. */
function derive(root: Buffer, use: string): Buffer {
  return Buffer.from(hkdfSync('sha256', root, 'nest-webhooks dashboard', `nest-webhooks/dashboard/${use}`, 32));
}

/**
 * The dashboard's server keys, for what it hands to the browser and must get back as it was: the sealed cookie of
 * a rotated secret and the form tokens. A cookie can be set by more than the dashboard (a sibling subdomain, for
 * one), so what it carries counts only when sealed or signed with a key the browser never sees.
 *
 * Derived (HKDF-SHA256) from the first of `secrets.encryptionKeys`, so replicas that share that key open and check
 * what another one made; without one, from a random key of this process (after a restart, open forms ask to be
 * reloaded and an unseen secret is gone).
 */
@Injectable()
export class DashboardKeys {
  private readonly sealing: Buffer;
  private readonly signing: Buffer;

  constructor(@Inject(WEBHOOKS_OPTIONS) options: Pick<ResolvedWebhooksOptions, 'secrets'>) {
    const first = options.secrets.encryptionKeys[0];
    const root = first ? (typeof first.key === 'string' ? Buffer.from(first.key, 'base64') : first.key) : randomBytes(32);
    this.sealing = derive(root, 'sealed-cookies');
    this.signing = derive(root, 'form-tokens');
  }

  /** `plaintext` encrypted and authenticated (AES-256-GCM) with `associatedData`, as base64url. */
  seal(plaintext: string, associatedData: string): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealing, nonce);
    cipher.setAAD(Buffer.from(associatedData, 'utf8'));
    return Buffer.concat([nonce, cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]).toString('base64url');
  }

  /** What `seal` sealed with the same associated data; `null` for anything else (another key, changed, or not sealed). */
  open(sealed: string, associatedData: string): string | null {
    const bytes = Buffer.from(sealed, 'base64url');
    if (bytes.length < NONCE_BYTES + TAG_BYTES) return null;
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.sealing, bytes.subarray(0, NONCE_BYTES));
      decipher.setAAD(Buffer.from(associatedData, 'utf8'));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(NONCE_BYTES, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      return null;
    }
  }

  /** HMAC-SHA256 of `message`, as base64url. */
  sign(message: string): string {
    return createHmac('sha256', this.signing).update(message).digest('base64url');
  }
}
