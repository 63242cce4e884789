import { Logger } from '@nestjs/common';
import { contractOf } from '../contracts';
import { parseEnv } from '../platform/config';
import { Metrics } from '../platform/metrics';
import { outboxConfig } from './outbox.config';
import { ContractViolationError, OutboxContracts } from './outbox-contracts';

const example = (type: string) => JSON.stringify(contractOf(type)!.example);
const secret = {
  ...(contractOf('crm.contact.upserted')!.example as object),
  kind: 'company',
  email: 'ada@secret.example',
};

async function violations(metrics: Metrics): Promise<Record<string, number>> {
  const metric = await metrics.registry.getSingleMetric('panora_webhooks_outbox_contract_violations_total')!.get();
  return Object.fromEntries(metric.values.map((v) => [String(v.labels.type), v.value]));
}

describe(OutboxContracts.name, () => {
  afterEach(() => jest.restoreAllMocks());

  it('should throw under tests (NODE_ENV=test, as jest sets it) and log otherwise', () => {
    expect(outboxConfig.of(parseEnv({ NODE_ENV: 'test' })).contractViolations).toBe('throw');
    expect(outboxConfig.of(parseEnv({ NODE_ENV: 'development' })).contractViolations).toBe('log');
  });

  describe('in production (log)', () => {
    it('should pass an event that keeps its contract, silently', async () => {
      const metrics = new Metrics();
      const error = jest.spyOn(Logger.prototype, 'error').mockImplementation();
      new OutboxContracts(metrics, { contractViolations: 'log' }).check(
        'crm.contact.upserted',
        example('crm.contact.upserted'),
      );
      expect(error).not.toHaveBeenCalled();
      expect(await violations(metrics)).toEqual({});
    });

    it('should log (type, path, issue; never the data) and count a violation, without throwing', async () => {
      const metrics = new Metrics();
      const error = jest.spyOn(Logger.prototype, 'error').mockImplementation();
      const contracts = new OutboxContracts(metrics, { contractViolations: 'log' });
      expect(() => contracts.check('crm.contact.upserted', JSON.stringify(secret))).not.toThrow();
      expect(() => contracts.check('crm.contact.upserted', '{}')).not.toThrow();
      expect(await violations(metrics)).toEqual({ 'crm.contact.upserted': 2 });
      const [fields, message] = error.mock.calls[0] as [Record<string, unknown>, string];
      expect(fields).toEqual({ type: 'crm.contact.upserted', path: 'data.kind', issue: expect.any(String) });
      expect(message).toMatch(
        /^Event crm\.contact\.upserted breaks its contract at data\.kind: .*written all the same/,
      );
      expect(JSON.stringify(error.mock.calls)).not.toContain('ada@secret.example');
    });

    it('should count an unknown routing key as a violation', async () => {
      const metrics = new Metrics();
      const error = jest.spyOn(Logger.prototype, 'error').mockImplementation();
      new OutboxContracts(metrics, { contractViolations: 'log' }).check('t1.contact.upserted', '{"n":1}');
      expect(await violations(metrics)).toEqual({ 't1.contact.upserted': 1 });
      expect(error.mock.calls[0][1]).toMatch(/t1\.contact\.upserted .*no contract/);
    });
  });

  describe('under tests (throw)', () => {
    const contracts = new OutboxContracts(new Metrics(), { contractViolations: 'throw' });

    it('should throw on a violation, naming the path', () => {
      expect(() => contracts.check('crm.contact.upserted', JSON.stringify(secret))).toThrow(ContractViolationError);
      expect(() => contracts.check('connections.connection.created', '{}')).toThrow(
        /connections\.connection\.created breaks its contract at data\.idConnection/,
      );
      expect(() => contracts.check('recovery.event.missed', 'null')).toThrow(/at data:/);
    });

    it('should judge the data as it travels, given the object as well as its JSON', () => {
      const upserted = contractOf('crm.contact.upserted')!.example as { updatedAt: string };
      // A Date is an ISO string once serialised: what consumers get keeps the contract.
      const withDate = { ...upserted, updatedAt: new Date(upserted.updatedAt) };
      expect(() => contracts.check('crm.contact.upserted', JSON.stringify(withDate), withDate)).not.toThrow();
      // A violation in the object is one in its JSON too.
      expect(() => contracts.check('crm.contact.upserted', JSON.stringify(secret), secret)).toThrow(
        /crm\.contact\.upserted breaks its contract at data\.kind/,
      );
    });

    it('should throw on an unknown routing key', () => {
      expect(() => contracts.check('t1.contact.upserted', '{}')).toThrow(/no contract/);
    });

    it('should pass every example', () => {
      for (const type of [
        'connections.connection.updated',
        'crm.deal.deleted',
        'recovery.event.missed',
        'ticketing.ticket.pulled',
      ]) {
        expect(() => contracts.check(type, example(type))).not.toThrow();
      }
    });
  });
});
