import type { BatchListener, TypeListeners } from './listener-registry';
import { dueBatches, ListenerRun, runBatch, RunningEvent } from './listener-run';
import { PanoraWebhookEvent, PermanentEventError } from './panora-event';

const running = (inboxId: string, type = 'crm.task.created', done: string[] = []): RunningEvent => ({
  event: new PanoraWebhookEvent(
    type,
    { poison: inboxId === 'poison' },
    {
      inboxId,
      endpointId: 'endpoint',
      idEvent: `evt_${inboxId}`,
      deliveredType: type,
      receivedAt: new Date(0),
      attempt: 1,
    },
  ),
  run: new ListenerRun(new Set(done)),
});

/** A batch listener that fails any call holding a poisoned event, recording the calls. */
const poisonable = (id = 'batch') => {
  const calls: string[][] = [];
  const listener: BatchListener = {
    id,
    invoke: async (events) => {
      calls.push(events.map((e) => e.meta.inboxId));
      const poisoned = events.some((e) => (e.data as { poison: boolean }).poison);
      return poisoned ? { listenerId: id, error: new PermanentEventError('poisoned') } : { listenerId: id };
    },
  };
  return { listener, calls };
};

describe(runBatch.name, () => {
  it('should record one call for the whole batch as each event’s outcome', async () => {
    const { listener, calls } = poisonable();
    const events = [running('1'), running('2')];
    await runBatch(listener, events);
    expect(calls).toEqual([['1', '2']]);
    expect(events.map(({ run }) => [...run.succeeded])).toEqual([['batch'], ['batch']]);
  });

  it('should retry a failed batch one event at a time, so the bad event fails alone', async () => {
    const { listener, calls } = poisonable();
    const events = [running('1'), running('poison'), running('3')];
    await runBatch(listener, events);
    expect(calls).toEqual([['1', 'poison', '3'], ['1'], ['poison'], ['3']]);
    expect(events.map(({ run }) => [...run.succeeded])).toEqual([['batch'], [], ['batch']]);
    expect(events[1].run.failed.get('batch')).toBeInstanceOf(PermanentEventError);
  });

  it('should not call the listener again for a single event that failed', async () => {
    const { listener, calls } = poisonable();
    const events = [running('poison')];
    await runBatch(listener, events);
    expect(calls).toEqual([['poison']]);
    expect(events[0].run.failed.get('batch')?.message).toBe('poisoned');
  });
});

describe(dueBatches.name, () => {
  it('should give each batch listener the events of its types still due, in round order', () => {
    const tasks = poisonable('tasks').listener;
    const everything = poisonable('everything').listener;
    const registry = {
      listenersOf: (type: string): TypeListeners => ({
        single: [],
        batch: type === 'crm.task.created' ? [tasks, everything] : [everything],
      }),
    };
    const unreadable = { ...running('3'), error: new Error('sealed under an unknown key') };
    const events = [
      running('1'),
      running('2', 'crm.deal.created'),
      unreadable,
      running('4', 'crm.task.created', ['tasks']),
    ];

    const due = dueBatches(events, registry);
    const ids = (listener: BatchListener) => due.get(listener)?.map(({ event }) => event.meta.inboxId);
    expect(ids(tasks)).toEqual(['1']);
    expect(ids(everything)).toEqual(['1', '2', '4']);
  });
});
