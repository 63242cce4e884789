import { randomBytes } from 'node:crypto';
import { isSecretKey } from '../config';
import { parseSecretKey, SecretBox, SecretBoxError } from './secret-box';

const newKey = () => parseSecretKey(randomBytes(32).toString('base64'));

describe(SecretBox.name, () => {
  it('should open what it sealed, and never keep the plaintext visible', () => {
    const box = new SecretBox(newKey());
    const sealed = box.seal('801f9ede-c698-4e66-a7fc-48d19eebaa4f');
    expect(sealed).not.toContain('801f9ede');
    expect(SecretBox.isSealed(sealed)).toBe(true);
    expect(box.open(sealed)).toBe('801f9ede-c698-4e66-a7fc-48d19eebaa4f');
  });

  it('should seal the same secret differently each time', () => {
    const box = new SecretBox(newKey());
    expect(box.seal('s')).not.toBe(box.seal('s'));
  });

  it('should refuse a tampered value', () => {
    const box = new SecretBox(newKey());
    const parts = box.seal('secret').split('.');
    parts[4] = Buffer.from('other').toString('base64url');
    expect(() => box.open(parts.join('.'))).toThrow(SecretBoxError);
  });

  it('should open values sealed under a previous key after rotation, and flag them stale', () => {
    const oldKey = newKey();
    const sealed = new SecretBox(oldKey).seal('secret');
    const rotated = new SecretBox(newKey(), [oldKey]);
    expect(rotated.open(sealed)).toBe('secret');
    expect(rotated.isStale(sealed)).toBe(true);
    expect(rotated.isStale(rotated.seal('secret'))).toBe(false);
  });

  it('should say which key is missing when a value was sealed under an unknown key', () => {
    const sealed = new SecretBox(newKey()).seal('secret');
    expect(() => new SecretBox(newKey()).open(sealed)).toThrow(/not configured/);
  });

  it('should reject a key that is not 32 bytes', () => {
    expect(() => parseSecretKey(randomBytes(16).toString('base64'))).toThrow(/32 random bytes/);
  });

  it('should reject a key with characters outside base64, which decoding would silently skip', () => {
    const key = randomBytes(32).toString('base64');
    expect(isSecretKey(key)).toBe(true);
    expect(isSecretKey(`${key.slice(0, 20)}!${key.slice(20)}`)).toBe(false);
    expect(isSecretKey(` ${key}\n`)).toBe(true);
  });
});
