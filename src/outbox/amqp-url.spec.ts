import { describeAmqpUrl, redactCredentials, withHeartbeat } from './amqp-url';

describe('describeAmqpUrl', () => {
  it('should name host, port and vhost without credentials', () => {
    expect(describeAmqpUrl('amqp://guest:secret@rabbit.internal:5673/prod')).toBe('rabbit.internal:5673/prod');
  });

  it('should fill in the default ports and vhost', () => {
    expect(describeAmqpUrl('amqp://u:p@127.0.0.1')).toBe('127.0.0.1:5672/');
    expect(describeAmqpUrl('amqps://u:p@broker')).toBe('broker:5671/');
  });

  it('should not echo an unparseable URL', () => {
    expect(describeAmqpUrl('amqp://u:p@[bad')).toBe('(unparseable RABBITMQ_URL)');
  });
});

describe('withHeartbeat', () => {
  it('should add a heartbeat when the URL names none', () => {
    expect(new URL(withHeartbeat('amqp://guest:guest@127.0.0.1:5672')).searchParams.get('heartbeat')).toBe('15');
  });

  it('should keep a heartbeat the URL names, and the other parameters', () => {
    const url = new URL(withHeartbeat('amqp://guest:guest@127.0.0.1:5672/?heartbeat=5&frameMax=8192'));
    expect(url.searchParams.get('heartbeat')).toBe('5');
    expect(url.searchParams.get('frameMax')).toBe('8192');
    expect(url.username).toBe('guest');
  });
});

describe('redactCredentials', () => {
  it('should take user and password out of URLs in a message', () => {
    expect(redactCredentials('cannot reach amqp://guest:s3cret@host:5672/ now')).toBe(
      'cannot reach amqp://***@host:5672/ now',
    );
  });

  it('should leave messages without credentials alone', () => {
    expect(redactCredentials('connect ECONNREFUSED 127.0.0.1:5672')).toBe('connect ECONNREFUSED 127.0.0.1:5672');
  });
});
