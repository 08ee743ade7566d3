import { AccessKeys, type KeyInfo, type Scope } from '../../access/index.js';
import { formatTime } from '../../events/index.js';
import { openStore } from '../../store/index.js';
import { cliEngineConfig } from '../config.js';
import { formatTable } from '../table.js';

export interface KeysCommandOptions {
  readonly dataDir?: string | undefined;
  readonly json: boolean;
}

/** The keys of the store the data directory names, as the server would read them. */
async function withKeys<T>(dataDir: string | undefined, run: (keys: AccessKeys) => Promise<T>): Promise<T> {
  const store = await openStore(cliEngineConfig(dataDir).storeUrl);
  try {
    return await run(new AccessKeys(store));
  } finally {
    await store.close();
  }
}

const iso = (ms: number | null): string | null => (ms === null ? null : formatTime(ms));

function infoJson(info: KeyInfo) {
  return { ...info, createdAt: iso(info.createdAt), revokedAt: iso(info.revokedAt) };
}

/** `attune keys create`: the key is printed once, here, and stored only as a hash. */
export async function createKey(
  options: KeysCommandOptions & { readonly scope: Scope; readonly app?: string; readonly name?: string },
): Promise<void> {
  const { key, info } = await withKeys(options.dataDir, (keys) =>
    keys.create({ scope: options.scope, app: options.app, name: options.name }),
  );
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ key, ...infoJson(info) })}\n`);
    return;
  }
  process.stdout.write(`${key}\n`);
  process.stderr.write(
    `created ${info.scope} key ${info.id} for app "${info.app}"${info.name ? ` (${info.name})` : ''}; ` +
      'it is shown only now: keep it somewhere safe. A running server accepts it at once.\n',
  );
}

/** `attune keys list`: ids, scopes and dates, never the keys. */
export async function listKeys(options: KeysCommandOptions): Promise<void> {
  const keys = await withKeys(options.dataDir, (access) => access.list());
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ keys: keys.map(infoJson) })}\n`);
    return;
  }
  if (keys.length === 0) {
    process.stdout.write(
      'no keys: the API answers loopback clients only. Create one: attune keys create --scope admin\n',
    );
    return;
  }
  const rows = [
    ['id', 'app', 'scope', 'name', 'created', 'revoked'],
    ...keys.map((k) => [k.id, k.app, k.scope, k.name ?? '', iso(k.createdAt) ?? '', iso(k.revokedAt) ?? '']),
  ];
  process.stdout.write(`${formatTable(rows).join('\n')}\n`);
}

/** `attune keys revoke ID`: a running server refuses the key within a second. */
export async function revokeKey(id: string, options: KeysCommandOptions): Promise<void> {
  const revoked = await withKeys(options.dataDir, (keys) => keys.revoke(id));
  if (revoked === null) throw new Error(`no key "${id}"; attune keys list shows the ids`);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(infoJson(revoked))}\n`);
    return;
  }
  process.stdout.write(`revoked ${revoked.scope} key ${revoked.id} at ${iso(revoked.revokedAt)}\n`);
}
