import { useState } from 'preact/hooks';
import { checkKey, setStoredKey } from '../api';

/** Shown when the API answers 401: the admin key, checked against an admin route before it is kept. */
export function SignIn(props: { onSignedIn: () => void }) {
  const [key, setKey] = useState('');
  const [message, setMessage] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  const submit = async (event: Event) => {
    event.preventDefault();
    const trimmed = key.trim();
    if (trimmed === '') {
      setMessage('Paste an admin key first.');
      return;
    }
    setBusy(true);
    setMessage(null);
    try {
      const result = await checkKey(trimmed);
      if (result.ok) {
        setStoredKey(trimmed);
        props.onSignedIn();
      } else {
        setMessage(result.message);
      }
    } catch (error) {
      setMessage(`Could not reach the engine: ${error instanceof Error ? error.message : String(error)}`);
    } finally {
      setBusy(false);
    }
  };

  return (
    <div class="signin">
      <form class="signin-card" onSubmit={submit}>
        <div class="brand">
          <span class="logo">A</span>
          <span>
            Attune
            <small>dashboard</small>
          </span>
        </div>
        <h1>Sign in</h1>
        <p class="sub">
          This engine requires an API key with the <b>admin</b> scope. It is kept in this tab only and sent as{' '}
          <code>Authorization: Bearer</code>.
        </p>
        <label for="admin-key">Admin key</label>
        <input
          id="admin-key"
          name="key"
          type="password"
          autocomplete="off"
          spellcheck={false}
          placeholder="attune_admin_…"
          value={key}
          onInput={(e) => setKey((e.target as HTMLInputElement).value)}
        />
        {message !== null ? (
          <div class="error-box" role="alert">
            {message}
          </div>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Checking…' : 'Sign in'}
        </button>
        <p class="hint">
          No key yet? Create one on the engine's host: <code>attune keys create --scope admin</code>
        </p>
      </form>
    </div>
  );
}
