import { CRM_KINDS, type CrmKind } from './crm-mapping';

/** The path of each kind's unified list in Panora's API (`GET /crm/<path>`). */
const LIST_PATHS: Readonly<Record<CrmKind, string>> = {
  contact: 'crm/contacts',
  company: 'crm/companies',
  deal: 'crm/deals',
  engagement: 'crm/engagements',
  note: 'crm/notes',
  task: 'crm/tasks',
  stage: 'crm/stages',
  user: 'crm/users',
};

export interface CrmRecoveryKind {
  kind: CrmKind;
  /** Panora's unified list of the kind, read with the connection's token. */
  path: string;
  /** The normalised event types whose loss a re-read of the kind makes good. */
  types: readonly string[];
}

/**
 * What recovery can re-read for the CRM projections: every kind this module projects, with its
 * unified list and the event types about it (`.created`, `.updated` and `.pulled`: the list gives
 * back the objects' current state; a deletion is not listed, so a missed `.deleted` is not among
 * them).
 */
export const CRM_RECOVERY: readonly CrmRecoveryKind[] = CRM_KINDS.map((kind) => ({
  kind,
  path: LIST_PATHS[kind],
  types: [`crm.${kind}.created`, `crm.${kind}.updated`, `crm.${kind}.pulled`],
}));
