import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { onUnauthorized, setStoredKey, storedKey } from './api';
import { useApi } from './hooks';
import { href, useRoute } from './router';
import type { HealthReply } from './types';
import { SignIn } from './pages/SignIn';
import { Overview } from './pages/Overview';
import { Events } from './pages/Events';
import { Catalog } from './pages/Catalog';
import { Users } from './pages/Users';
import { Models } from './pages/Models';
import { Experiments } from './pages/Experiments';
import { Segments } from './pages/Segments';
import { DecisionPoints } from './pages/DecisionPoints';

interface Page {
  readonly path: string;
  readonly label: string;
  readonly icon: string;
  readonly view: ComponentType<{ id: string | null }>;
}

/** SVG paths (24×24, stroked) for the navigation. */
const ICONS = {
  overview: 'M3 13h8V3H3zM13 21h8V11h-8zM3 21h8v-6H3zM13 3v6h8V3z',
  events: 'M3 12h4l3-8 4 16 3-8h4',
  catalog: 'M4 4h16v4H4zM4 10h16v10H4zM9 14h6',
  users:
    'M16 20v-2a4 4 0 0 0-4-4H6a4 4 0 0 0-4 4v2M9 10a4 4 0 1 0 0-8 4 4 0 0 0 0 8M22 20v-2a4 4 0 0 0-3-3.9M16 2.1a4 4 0 0 1 0 7.8',
  models: 'M12 2 2 7l10 5 10-5zM2 17l10 5 10-5M2 12l10 5 10-5',
  experiments: 'M9 3h6M10 3v6L4 19a2 2 0 0 0 1.7 3h12.6a2 2 0 0 0 1.7-3L14 9V3',
  segments: 'M12 2a10 10 0 1 0 10 10H12zM15 2.5A10 10 0 0 1 21.5 9H15z',
  decisions: 'M6 3v12M18 9a3 3 0 1 0 0-6 3 3 0 0 0 0 6M6 21a3 3 0 1 0 0-6 3 3 0 0 0 0 6M18 9a9 9 0 0 1-9 9',
} as const;

const PAGES: readonly Page[] = [
  { path: 'overview', label: 'Overview', icon: ICONS.overview, view: Overview },
  { path: 'events', label: 'Events', icon: ICONS.events, view: Events },
  { path: 'catalog', label: 'Catalog', icon: ICONS.catalog, view: Catalog },
  { path: 'users', label: 'Users', icon: ICONS.users, view: Users },
  { path: 'models', label: 'Models', icon: ICONS.models, view: Models },
  { path: 'experiments', label: 'Experiments', icon: ICONS.experiments, view: Experiments },
  { path: 'segments', label: 'Segments', icon: ICONS.segments, view: Segments },
  { path: 'decisions', label: 'Decision points', icon: ICONS.decisions, view: DecisionPoints },
];

function Icon(props: { d: string }) {
  return (
    <svg viewBox="0 0 24 24" width="16" height="16" aria-hidden="true" class="icon">
      <path
        d={props.d}
        fill="none"
        stroke="currentColor"
        stroke-width="1.8"
        stroke-linecap="round"
        stroke-linejoin="round"
      />
    </svg>
  );
}

function HealthDot() {
  const health = useApi<HealthReply>('/health', 15_000);
  const ready = health.data?.status === 'ready';
  const text =
    health.data === undefined
      ? health.error
        ? 'starting'
        : '…'
      : ready
        ? `ready · model v${health.data.model_version ?? '—'}`
        : 'starting';
  return (
    <div class="health" title="GET /health">
      <span class={`dot ${ready ? 'good' : health.data === undefined && !health.error ? '' : 'warn'}`} />
      {text}
    </div>
  );
}

export function App() {
  const route = useRoute();
  const [needsKey, setNeedsKey] = useState(false);
  const [signedIn, setSignedIn] = useState(storedKey() !== null);
  // A remount after signing in reloads every view with the key.
  const [session, setSession] = useState(0);

  useEffect(() => onUnauthorized(() => setNeedsKey(true)), []);

  if (needsKey) {
    return (
      <SignIn
        onSignedIn={() => {
          setNeedsKey(false);
          setSignedIn(true);
          setSession((s) => s + 1);
        }}
      />
    );
  }

  const page = PAGES.find((p) => p.path === route.page) ?? PAGES[0]!;
  const View = page.view;
  return (
    <div class="shell">
      <nav class="sidebar">
        <a class="brand" href={href('overview')}>
          <span class="logo">A</span>
          <span>
            Attune
            <small>dashboard</small>
          </span>
        </a>
        <ul>
          {PAGES.map((p) => (
            <li key={p.path}>
              <a
                href={href(p.path)}
                class={p === page ? 'active' : ''}
                aria-current={p === page ? 'page' : undefined}
              >
                <Icon d={p.icon} />
                {p.label}
              </a>
            </li>
          ))}
        </ul>
        <div class="sidebar-foot">
          <HealthDot />
          {signedIn ? (
            <button
              class="link"
              onClick={() => {
                setStoredKey(null);
                setSignedIn(false);
                setNeedsKey(true);
              }}
            >
              Sign out
            </button>
          ) : null}
        </div>
      </nav>
      <main class="content" key={`${session}`}>
        <View id={route.id} key={`${page.path}`} />
      </main>
    </div>
  );
}
