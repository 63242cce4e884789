import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { decodeSecretKey, SECRET_KEY_FORMAT } from '../config';

const ALGORITHM = 'aes-256-gcm';
const PREFIX = 'sb1';

export class SecretBoxError extends Error {}

/** A 32-byte AES key and its id (the first 8 hex characters of its SHA-256). */
export interface SecretKey {
  id: string;
  key: Buffer;
}

export function parseSecretKey(base64: string, name = 'SECRETS_KEY'): SecretKey {
  const key = decodeSecretKey(base64);
  if (!key) throw new SecretBoxError(`${name}: ${SECRET_KEY_FORMAT}`);
  return { id: createHash('sha256').update(key).digest('hex').slice(0, 8), key };
}

/**
 * Encrypts secrets at rest with AES-256-GCM. Each value carries the id of the key that sealed it
 * (`sb1.<key id>.<iv>.<tag>.<ciphertext>`), so the key can be rotated: new values are sealed with
 * the current key, old ones still open with a previous key until they are re-sealed.
 */
export class SecretBox {
  private readonly keys = new Map<string, Buffer>();

  constructor(
    private readonly current: SecretKey,
    previous: SecretKey[] = [],
  ) {
    for (const { id, key } of [current, ...previous]) this.keys.set(id, key);
  }

  get keyId(): string {
    return this.current.id;
  }

  static isSealed(value: unknown): value is string {
    return typeof value === 'string' && value.startsWith(`${PREFIX}.`);
  }

  seal(plaintext: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv(ALGORITHM, this.current.key, iv);
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const tag = cipher.getAuthTag();
    return [
      PREFIX,
      this.current.id,
      iv.toString('base64url'),
      tag.toString('base64url'),
      ciphertext.toString('base64url'),
    ].join('.');
  }

  open(sealed: string): string {
    const parts = sealed.split('.');
    if (parts.length !== 5 || parts[0] !== PREFIX) throw new SecretBoxError('not a sealed value');
    const [, keyId, iv, tag, ciphertext] = parts;
    const key = this.keys.get(keyId);
    if (!key)
      throw new SecretBoxError(
        `sealed with key ${keyId}, which is not configured (SECRETS_KEY / SECRETS_KEY_PREVIOUS)`,
      );
    try {
      const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(iv, 'base64url'));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
    } catch {
      throw new SecretBoxError(`sealed value does not open with key ${keyId}: corrupted or tampered with`);
    }
  }

  /** True when the value was sealed with an older key and should be re-sealed. */
  isStale(sealed: string): boolean {
    return sealed.split('.')[1] !== this.current.id;
  }
}
