/**
 * An on/off environment variable (1, true, yes, on / 0, false, no, off; any case), or undefined when unset.
 * A module of its own without imports: `v8-flags.ts` reads one before the rest of the program is loaded.
 */
export function envFlag(
  env: Readonly<Record<string, string | undefined>>,
  name: string,
): boolean | undefined {
  const value = env[name];
  if (value === undefined) return undefined;
  if (/^(1|true|yes|on)$/i.test(value)) return true;
  if (/^(0|false|no|off)$/i.test(value)) return false;
  throw new Error(`${name} must be on or off, got "${value}"`);
}
