import type { ComponentChildren, JSX } from 'preact';
import { ApiError } from '../api';
import type { Loaded } from '../hooks';

export function Card(props: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
  flush?: boolean;
}) {
  return (
    <section class={`card ${props.class ?? ''}`}>
      {props.title !== undefined || props.actions !== undefined ? (
        <header class="card-head">
          <h2>{props.title}</h2>
          {props.actions !== undefined ? <div class="card-actions">{props.actions}</div> : null}
        </header>
      ) : null}
      <div class={props.flush === true ? 'card-body flush' : 'card-body'}>{props.children}</div>
    </section>
  );
}

export function PageHead(props: {
  title: ComponentChildren;
  sub?: ComponentChildren;
  actions?: ComponentChildren;
}) {
  return (
    <div class="page-head">
      <div>
        <h1>{props.title}</h1>
        {props.sub !== undefined ? <p class="sub">{props.sub}</p> : null}
      </div>
      {props.actions !== undefined ? <div class="page-actions">{props.actions}</div> : null}
    </div>
  );
}

export function Stat(props: {
  label: string;
  value: ComponentChildren;
  hint?: ComponentChildren;
  tone?: 'good' | 'bad' | 'warn';
}) {
  return (
    <div class={`stat ${props.tone ?? ''}`}>
      <div class="stat-label">{props.label}</div>
      <div class="stat-value">{props.value}</div>
      {props.hint !== undefined ? <div class="stat-hint">{props.hint}</div> : null}
    </div>
  );
}

/** What is missing and the command or step that fills it. */
export function Empty(props: { title: string; children?: ComponentChildren; command?: string }) {
  return (
    <div class="empty">
      <div class="empty-title">{props.title}</div>
      {props.children !== undefined ? <div class="empty-text">{props.children}</div> : null}
      {props.command !== undefined ? <code class="command">{props.command}</code> : null}
    </div>
  );
}

export function Spinner(props: { label?: string }) {
  return (
    <div class="loading" role="status">
      <span class="spinner" />
      {props.label ?? 'Loading…'}
    </div>
  );
}

export function ErrorBox(props: { error: Error }) {
  const status = props.error instanceof ApiError ? ` (${props.error.status})` : '';
  return (
    <div class="error-box" role="alert">
      <strong>Could not load this{status}.</strong> {props.error.message}
    </div>
  );
}

/**
 * Renders `children(data)` once loaded; the spinner before, the error after a failure, and `empty` for
 * the replies the route uses to say "nothing yet" (its codes, e.g. `no_segments_model`).
 */
export function Async<T>(props: {
  state: Loaded<T>;
  children: (data: T) => ComponentChildren;
  empty?: Readonly<Record<string, () => ComponentChildren>>;
  label?: string;
}): JSX.Element {
  const { data, error, loading } = props.state;
  if (data !== undefined) return <>{props.children(data)}</>;
  if (error !== undefined) {
    const render = error instanceof ApiError ? props.empty?.[error.code] : undefined;
    return render !== undefined ? <>{render()}</> : <ErrorBox error={error} />;
  }
  return loading ? <Spinner {...(props.label !== undefined ? { label: props.label } : {})} /> : <></>;
}

export function Badge(props: {
  tone?: 'good' | 'bad' | 'warn' | 'info' | 'muted';
  children: ComponentChildren;
}) {
  return <span class={`badge ${props.tone ?? 'muted'}`}>{props.children}</span>;
}

/** A horizontal bar for a share in [0, 1] inside a table cell. */
export function Meter(props: { value: number; tone?: 'good' | 'bad' | 'warn' | 'info' }) {
  const width = Math.max(0, Math.min(1, props.value)) * 100;
  return (
    <span class="meter">
      <span class={`meter-fill ${props.tone ?? 'info'}`} style={{ width: `${width}%` }} />
    </span>
  );
}

export function KeyValues(props: { rows: readonly (readonly [string, ComponentChildren])[] }) {
  return (
    <dl class="kv">
      {props.rows.map(([key, value]) => (
        <>
          <dt key={`k-${key}`}>{key}</dt>
          <dd key={`v-${key}`}>{value}</dd>
        </>
      ))}
    </dl>
  );
}

export function Json(props: { value: unknown }) {
  return <pre class="json">{JSON.stringify(props.value, null, 2)}</pre>;
}
