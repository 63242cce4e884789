/** What a key must look like, for messages that name the variable or file holding it. */
export const SECRET_KEY_FORMAT = 'expected 32 random bytes, base64-encoded (openssl rand -base64 32)';

/** The 32 bytes of a base64 (or base64url) key, or undefined when it is anything else. */
export function decodeSecretKey(base64: string): Buffer | undefined {
  const text = base64.trim();
  // Buffer.from skips characters that are not base64: check the alphabet first.
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(text)) return undefined;
  const key = Buffer.from(text, 'base64');
  return key.length === 32 ? key : undefined;
}

/** True when the value is a usable SECRETS_KEY (checked by the env schema before anything starts). */
export function isSecretKey(base64: string): boolean {
  return decodeSecretKey(base64) !== undefined;
}
