import { render } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { api, ApiError, messageOf, session, SIGNED_OUT } from './api';
import { href, useRoute } from './router';
import { Overview } from './pages/overview';
import { Events } from './pages/events';
import { EventPage } from './pages/event';
import { DeadLetters } from './pages/dead-letters';
import { Endpoints } from './pages/endpoints';
import { Connections } from './pages/connections';
import './style.css';

export type Access = 'full' | 'read-only';

const PAGES: { path: string; label: string }[] = [
  { path: '/', label: 'Overview' },
  { path: '/events', label: 'Events' },
  { path: '/dead', label: 'Dead letters' },
  { path: '/endpoints', label: 'Endpoints' },
  { path: '/connections', label: 'Connections' },
];

function SignIn({ onSignedIn }: { onSignedIn: (access: Access) => void }) {
  const input = useRef<HTMLInputElement>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  useEffect(() => input.current?.focus(), []);

  const submit = async (event: Event) => {
    event.preventDefault();
    const field = input.current;
    if (!field || !field.value.trim()) return;
    setBusy(true);
    session.signIn(field.value.trim());
    // The key leaves the page's DOM as soon as it is read.
    field.value = '';
    try {
      const { access } = await api<{ access: Access }>('GET', '/admin/whoami');
      onSignedIn(access);
    } catch (failure) {
      session.signOut();
      setError(
        failure instanceof ApiError && failure.status === 401 ? 'This key is not an admin key' : messageOf(failure),
      );
      setBusy(false);
      field.focus();
    }
  };

  return (
    <main class="signin">
      <h1>panora-webhooks console</h1>
      <form onSubmit={submit} aria-describedby="signin-help">
        <label for="admin-key">Admin key</label>
        <input ref={input} id="admin-key" name="admin-key" type="password" autocomplete="off" required />
        <p id="signin-help" class="help">
          A key from ADMIN_API_KEYS, or ADMIN_READ_API_KEYS to look without changing anything. It is kept in this tab
          only, until you sign out or close it.
        </p>
        <button type="submit" class="primary" disabled={busy}>
          Sign in
        </button>
        {error ? (
          <p role="alert" class="error">
            {error}
          </p>
        ) : null}
      </form>
    </main>
  );
}

function App() {
  const [access, setAccess] = useState<Access | null>(null);
  const [checking, setChecking] = useState(() => session.key() !== null);
  const route = useRoute();
  const heading = useRef<HTMLElement>(null);

  useEffect(() => {
    const signedOut = () => setAccess(null);
    window.addEventListener(SIGNED_OUT, signedOut);
    if (session.key()) {
      api<{ access: Access }>('GET', '/admin/whoami')
        .then(({ access: found }) => setAccess(found))
        .catch(() => setAccess(null))
        .finally(() => setChecking(false));
    }
    return () => window.removeEventListener(SIGNED_OUT, signedOut);
  }, []);

  // A new page: the focus moves to its heading, as a screen reader user expects after a link.
  useEffect(() => {
    heading.current?.querySelector<HTMLElement>('h1')?.focus();
  }, [route.path]);

  if (checking) return <p class="loading">Loading…</p>;
  if (!access) return <SignIn onSignedIn={setAccess} />;

  const canWrite = access === 'full';
  const eventMatch = /^\/events\/([^/]+)$/.exec(route.path);
  const section = eventMatch ? '/events' : route.path;
  let page;
  if (eventMatch) page = <EventPage id={decodeURIComponent(eventMatch[1])} canWrite={canWrite} />;
  else if (route.path === '/events') page = <Events params={route.params} />;
  else if (route.path === '/dead') page = <DeadLetters canWrite={canWrite} />;
  else if (route.path === '/endpoints') page = <Endpoints canWrite={canWrite} />;
  else if (route.path === '/connections') page = <Connections params={route.params} />;
  else page = <Overview />;

  return (
    <>
      <a class="skip" href="#main" onClick={(e) => (e.preventDefault(), heading.current?.querySelector('h1')?.focus())}>
        Skip to content
      </a>
      <header class="top">
        <span class="brand">panora-webhooks</span>
        <nav aria-label="Console">
          <ul>
            {PAGES.map((p) => (
              <li key={p.path}>
                <a href={href(p.path)} aria-current={section === p.path ? 'page' : undefined}>
                  {p.label}
                </a>
              </li>
            ))}
          </ul>
        </nav>
        <span class="who">{canWrite ? 'Admin key' : 'Read-only key'}</span>
        <button type="button" onClick={() => session.signOut()}>
          Sign out
        </button>
      </header>
      <main id="main" ref={heading}>
        {page}
      </main>
    </>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
