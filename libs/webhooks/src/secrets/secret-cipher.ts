import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/** An encryption key for secrets at rest. `id` is stored with every ciphertext so keys can be rotated. */
export interface SecretEncryptionKey {
  id: string;
  /** 32 bytes, or their base64. */
  key: Buffer | string;
}

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;

/** A secret that could not be decrypted: unknown key id, wrong key or a tampered value. */
export class SecretDecryptionError extends Error {
  override readonly name = 'SecretDecryptionError';
}

function toKey(key: Buffer | string, id: string): Buffer {
  const bytes = typeof key === 'string' ? Buffer.from(key, 'base64') : key;
  if (bytes.length !== 32) {
    throw new Error(`Webhook secret encryption key "${id}" must be 32 bytes (base64 of 32 bytes); got ${bytes.length} bytes`);
  }
  return bytes;
}

/**
 * AES-256-GCM for signing secrets at rest (HMAC needs the clear secret, so it is encrypted, not hashed).
 * Ciphertext format: `v1.<keyId>.<base64 nonce>.<base64 ciphertext+tag>`; a random 96-bit nonce per value.
 * The first key encrypts; every listed key decrypts, so an operator can add a new key first and re-encrypt.
 */
export class SecretCipher {
  private readonly keys = new Map<string, Buffer>();
  readonly currentKeyId: string;

  constructor(keys: readonly SecretEncryptionKey[]) {
    if (keys.length === 0) throw new Error('SecretCipher needs at least one key');
    for (const { id, key } of keys) {
      if (!/^[A-Za-z0-9_-]{1,32}$/.test(id)) throw new Error(`Webhook secret key id "${id}" must be 1-32 of [A-Za-z0-9_-]`);
      this.keys.set(id, toKey(key, id));
    }
    this.currentKeyId = keys[0]!.id;
  }

  encrypt(plaintext: string, associatedData = ''): string {
    const nonce = randomBytes(NONCE_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.currentKeyId)!, nonce);
    cipher.setAAD(Buffer.from(associatedData));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
    return [VERSION, this.currentKeyId, nonce.toString('base64'), body.toString('base64')].join('.');
  }

  decrypt(value: string, associatedData = ''): string {
    const [version, keyId, nonce, body] = value.split('.');
    if (version !== VERSION || !keyId || !nonce || !body) throw new SecretDecryptionError('Stored secret has an unknown format');
    const key = this.keys.get(keyId);
    if (!key) throw new SecretDecryptionError(`Stored secret was encrypted with key "${keyId}", which is not configured`);
    const bytes = Buffer.from(body, 'base64');
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(nonce, 'base64'));
      decipher.setAAD(Buffer.from(associatedData));
      decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
      return Buffer.concat([decipher.update(bytes.subarray(0, bytes.length - TAG_BYTES)), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretDecryptionError(`Stored secret could not be decrypted with key "${keyId}"`);
    }
  }

  /** The key id a stored value was encrypted with. */
  keyIdOf(value: string): string | undefined {
    return value.split('.')[1];
  }
}
