import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { IdpUser } from './oidc-idp.js';
import { errorPage, loginPage } from './oidc-idp-pages.js';

/**
 * GET and POST /interaction/UID, in front of oidc-provider (which has no pages of its own with devInteractions
 * off). Login: the form, and its answer: a known user (by id or email) finishes the interaction, anyone else gets
 * the form again. Consent, only ever asked for by an explicit prompt=consent (the grant is otherwise made
 * without asking), is given at once, without a page.
 */
export async function interaction(
  provider: Provider,
  users: IdpUser[],
  uid: string,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<void> {
  const html = (status: number, body: string) =>
    void res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' }).end(body);
  try {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return html(400, errorPage('invalid_request', 'this is not your interaction'));
    if (details.prompt.name === 'consent') return await provider.interactionFinished(req, res, { consent: {} });
    if (details.prompt.name !== 'login') {
      return html(500, errorPage('server_error', `the test IdP has no page for prompt ${details.prompt.name}`));
    }
    if (req.method === 'GET') return html(200, loginPage(uid));
    if (req.method !== 'POST') return html(405, errorPage('invalid_request', 'GET or POST'));
    const login = new URLSearchParams(await readBody(req)).get('login')?.trim() ?? '';
    const user = users.find((u) => u.id === login || u.email === login);
    if (!user) return html(200, loginPage(uid, { login, error: `No such user: ${login}` }));
    const result = { login: { accountId: user.id } };
    await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  } catch (error) {
    // An expired or foreign interaction (its cookie is gone): the page says so, for the test that hits it.
    const message = error instanceof Error ? error.message : String(error);
    if (!res.headersSent) html(400, errorPage('invalid_request', message));
  }
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
