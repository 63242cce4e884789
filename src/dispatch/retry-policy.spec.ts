import { SecretBoxError } from '../platform/secrets/secret-box';
import type { ClaimedRow } from './dispatch-queue.repository';
import { ListenerRun } from './listener-run';
import { PermanentEventError } from './panora-event';
import { decideOutcome, payloadError } from './retry-policy';

const options = { maxAttempts: 3, retryBaseMs: 1_000, retryMaxMs: 60_000 };

const row = (attempts: number, attemptsAtReplay = 0): ClaimedRow => ({
  id: '7',
  endpoint_id: 'endpoint',
  id_event: 'evt_1',
  type: 'crm.contact.created',
  normalized_type: 'crm.contact.created',
  payload: {},
  attempts,
  attempts_at_replay: attemptsAtReplay,
  claim_id: '00000000-0000-4000-8000-000000000000',
  received_at: new Date(0),
  done: null,
});

const run = (succeeded: string[], failed: [string, Error][]): ListenerRun => {
  const result = new ListenerRun();
  for (const name of succeeded) result.recordSuccess(name);
  for (const [name, error] of failed) result.recordFailure(name, error);
  return result;
};

describe(decideOutcome.name, () => {
  it('should mark an event processed when every listener succeeded', () => {
    const outcome = decideOutcome(row(1), run(['crm'], []), options);
    expect(outcome).toMatchObject({ status: 'processed', permanent: false, delayMs: 0, lastError: null });
    expect(outcome.listeners).toEqual([{ name: 'crm', status: 'succeeded', error: null }]);
  });

  it('should retry a failed listener after a jittered backoff, keeping the ones that succeeded', () => {
    const outcome = decideOutcome(row(2), run(['crm'], [['forwarder', new Error('broker down')]]), options);
    expect(outcome.status).toBe('failed');
    // Second attempt: base * 2, of which up to half is taken off at random.
    expect(outcome.delayMs).toBeGreaterThanOrEqual(1_000);
    expect(outcome.delayMs).toBeLessThanOrEqual(2_000);
    expect(outcome.lastError).toBe('forwarder: broker down');
    expect(outcome.listeners).toEqual([
      { name: 'crm', status: 'succeeded', error: null },
      { name: 'forwarder', status: 'failed', error: 'broker down' },
    ]);
  });

  it('should make the event dead on the last attempt counted from the last replay', () => {
    const failing = () => run([], [['forwarder', new Error('broker down')]]);
    expect(decideOutcome(row(3), failing(), options)).toMatchObject({ status: 'dead', delayMs: 0, permanent: false });
    expect(decideOutcome(row(5, 3), failing(), options).status).toBe('failed');
    expect(decideOutcome(row(5, 3), failing(), options).listeners[0].status).toBe('failed');
    expect(decideOutcome(row(6, 3), failing(), options).listeners[0].status).toBe('dead');
  });

  it('should make the event dead at once when a listener failed permanently, and say it is not retried', () => {
    const outcome = decideOutcome(
      row(1),
      run([], [['connections', new PermanentEventError('no id_connection')]]),
      options,
    );
    expect(outcome).toMatchObject({ status: 'dead', permanent: true, delayMs: 0 });
    expect(outcome.lastError).toBe(
      'connections: no id_connection (permanent: not retried; fix the cause, then replay)',
    );
  });

  it('should keep the stored error within 2,000 characters, each listener error within 500', () => {
    const outcome = decideOutcome(
      row(1),
      run(
        [],
        [...'abcde'].map((name): [string, Error] => [name, new Error('x'.repeat(1_000))]),
      ),
      options,
    );
    expect(outcome.lastError).toHaveLength(2_000);
    expect(outcome.listeners.every((l) => l.error?.length === 500)).toBe(true);
  });
});

describe(payloadError.name, () => {
  it('should make a payload that does not open with the key it names permanent', () => {
    const error = payloadError(new SecretBoxError('the sealed value was tampered with'));
    expect(error).toBeInstanceOf(PermanentEventError);
    expect(error.message).toBe('the stored payload cannot be opened: the sealed value was tampered with');
  });

  it('should retry a payload sealed under a key this instance lacks', () => {
    const error = payloadError(new SecretBoxError('key 0a1b2c3d is not configured'));
    expect(error).not.toBeInstanceOf(PermanentEventError);
    expect(error.message).toBe(
      'the stored payload cannot be opened: key 0a1b2c3d is not configured; retried until that key is configured on this instance',
    );
  });
});
