import type { AuditEntry, Store, StoredAuditEntry } from '../store/index.js';

/**
 * The audit log of admin actions: who (a key id), what (method and route), on what (a resource id that is
 * not a person's), when, and the reply's status. It holds no personal data, so it outlives an erasure.
 */
export class AuditLog {
  constructor(private readonly store: Store) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.store.appendAudit([entry]);
  }

  /** The app's entries after position `afterSeq`, oldest first: an app's admins see their app's only. */
  list(app: string, afterSeq: number, limit: number): Promise<StoredAuditEntry[]> {
    return this.store.listAudit({ afterSeq, limit, app });
  }
}
