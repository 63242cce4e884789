export { DATA_SCHEMAS, type BusEvent, type DataOf, type EventOf, type RoutingKey } from './events';
export {
  exampleEvent,
  isEvent,
  isRoutingKey,
  parseEvent,
  ROUTING_KEYS,
  type EventIssue,
  type ParsedEvent,
} from './validate';
