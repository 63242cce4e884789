export type { EventContract } from './event-contract';
export { EVENT_CONTRACTS, contractOf, messageJsonSchema } from './event-contracts';
export { CLOUDEVENTS_SPEC_VERSION, envelopeSchema } from './envelope.schema';
export { connectionEventData, type ConnectionEventData } from './connections.contracts';
export { crmObjectEventData, type CrmObjectEventData } from './crm.contracts';
export {
  forwardedEventData,
  FORWARDED_EVENT_TYPES,
  NOT_FORWARDED,
  type ForwardedEventData,
} from './forwarded.contracts';
export { missedEventData, type MissedEventData } from './recovery.contracts';
export { renderEventCatalogue, withEventCatalogue } from './event-catalogue';
export { ASYNCAPI_JSON_PATH, asyncApiDocument, exampleMessage } from './asyncapi';
