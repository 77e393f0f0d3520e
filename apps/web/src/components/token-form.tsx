import { useState } from 'react';
import { setApiToken } from '../api/client';

/** Asks for the API token when the server requires one (`--api-token`). */
export function TokenForm({ rejected }: { rejected: boolean }) {
  const [token, setToken] = useState('');
  return (
    <form
      className="token-form"
      onSubmit={(event) => {
        event.preventDefault();
        setApiToken(token.trim());
        location.reload();
      }}
    >
      <h1>This server requires an API token</h1>
      <p className="muted">
        {rejected ? 'The token was not accepted. ' : ''}The token is kept for this browser tab only. You can also open the viewer with ?token=… in the address.
      </p>
      <input type="password" aria-label="API token" value={token} onChange={(event) => setToken(event.target.value)} autoFocus required />
      <button type="submit" className="button">
        Continue
      </button>
    </form>
  );
}
