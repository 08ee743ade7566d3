/**
 * SQLite's page cache per writing connection, in KiB. Every event touches a random leaf page of the user
 * index (and of the event-id index when ids are random UUIDs), so a batch of 500 dirties 550–1,150 pages
 * (measured). SQLite's 2 MiB default cannot hold those hot pages and re-reads them from the OS on every
 * batch; 64 MiB (a cap, filled as used) keeps them.
 */
export const CACHE_KIB = 64 * 1024;
