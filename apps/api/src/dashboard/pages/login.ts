import { html } from 'hono/html';
import { type Html, page } from '../layout.ts';

export function loginPage(next: string, error?: string): Html {
  return page({
    title: 'Sign in',
    principal: null,
    live: html`<div class="login">
<h1>Sign in</h1>
<p class="muted small">Paste an admin, viewer or cluster token. It is kept in an HttpOnly cookie for this site only; a cluster token shows only its cluster.</p>
${error ? html`<div class="error-box" role="alert">${error}</div>` : ''}
<form method="post" action="/login">
<input type="hidden" name="next" value="${next}">
<label for="token">Token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</div>`,
  });
}
