import { deliveryProblems, jsonDepth } from './delivery';

describe(deliveryProblems.name, () => {
  it('should accept string and object data, and ignore extra fields', () => {
    expect(deliveryProblems({ id_event: 'e1', type: 'connection.created', data: '{}' })).toEqual([]);
    expect(deliveryProblems({ id_event: 'e1', type: 'crm.contact.created', data: { id: 1 }, extra: true })).toEqual([]);
  });

  it.each([
    ['an array', []],
    ['a string', 'hello'],
    ['null', null],
  ])('should refuse %s as the body', (_, body) => {
    expect(deliveryProblems(body)[0]).toMatch(/must be a JSON object/);
  });

  it('should name every missing or wrong field', () => {
    expect(deliveryProblems({ type: 5, data: null })).toEqual([
      'id_event must be a non-empty string',
      'type must be a non-empty string',
      'data must be a JSON string or an object',
    ]);
  });

  it('should refuse an id_event of 10 KB', () => {
    expect(deliveryProblems({ id_event: 'x'.repeat(10_240), type: 't', data: '{}' })).toEqual([
      'id_event must be at most 255 characters',
    ]);
  });
});

describe(jsonDepth.name, () => {
  it('should count nesting of objects and arrays, ignoring brackets inside strings', () => {
    expect(jsonDepth('{}')).toBe(1);
    expect(jsonDepth('{"a":[{"b":1}]}')).toBe(3);
    expect(jsonDepth('{"a":"[[[{{{\\"]]]"}')).toBe(1);
    expect(jsonDepth('"plain"')).toBe(0);
  });

  it('should stop early on hostile nesting', () => {
    expect(jsonDepth('['.repeat(10_000) + ']'.repeat(10_000), 129)).toBe(129);
  });
});
