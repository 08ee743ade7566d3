import { spawnSync } from 'node:child_process';

/**
 * The first Python that imports `module`, for comparing with a peer library side by side: `$PYTHON`,
 * `python3` on the path, then the system one (`/usr/bin/python3`, where Debian's python3-sklearn and
 * python3-xgboost install; a pyenv or virtualenv `python3` first on the path often lacks them).
 */
export function pythonWith(module: string): string | undefined {
  const candidates = [process.env['PYTHON'], 'python3', '/usr/bin/python3'].filter(
    (candidate): candidate is string => candidate !== undefined,
  );
  return candidates.find(
    (python) => spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0,
  );
}
