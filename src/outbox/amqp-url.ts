const DEFAULT_HEARTBEAT_SECONDS = 15;

/** host:port/vhost of an AMQP URL, without credentials, for log lines and health output. */
export function describeAmqpUrl(url: string): string {
  try {
    const parsed = new URL(url);
    const port = parsed.port || (parsed.protocol === 'amqps:' ? '5671' : '5672');
    const vhost = parsed.pathname && parsed.pathname !== '/' ? parsed.pathname : '/';
    return `${parsed.hostname}:${port}${vhost}`;
  } catch {
    return '(unparseable RABBITMQ_URL)';
  }
}

/**
 * The URL with a heartbeat when it names none: a broker that vanishes without closing the socket
 * (a cut network) is then noticed in seconds instead of minutes.
 */
export function withHeartbeat(url: string, seconds = DEFAULT_HEARTBEAT_SECONDS): string {
  const parsed = new URL(url);
  if (!parsed.searchParams.has('heartbeat')) parsed.searchParams.set('heartbeat', String(seconds));
  return parsed.toString();
}

/** An error message with any `user:password@` taken out. */
export function redactCredentials(message: string): string {
  return message.replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1***@');
}
