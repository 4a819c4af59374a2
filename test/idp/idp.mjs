// A real OpenID provider for ssoproxy's end-to-end tests.
//
// It is panva's oidc-provider (an OpenID Certified implementation) set up
// the way the Authentik guide sets up Authentik: one confidential client,
// a custom scope "litellm_role" carrying a claim of the same name, and a
// "groups" scope carrying the user's groups. The login and consent pages
// are our own, small and with stable element ids, so that curl and a
// headless browser can both drive them:
//
//   login page    form#login    input#username input#password button#submit
//   consent page  form#consent  button#approve; form#deny button#deny
//
// A wrong password answers 401 with the login page again. Denying consent
// sends the browser back to the client with error=access_denied.
//
// Everything is set by flags (or the IDP_* environment variable of the
// same name in upper case, dashes as underscores):
//
//   --port N                0 = any free port (default)
//   --client-id ID          confidential client, client_secret_basic
//   --client-secret S       its secret (may hold '+', '%', ...)
//   --redirect-uri U        comma-separated list
//   --post-logout-uri U     comma-separated list
//   --claims-in W           userinfo (default) | id_token | both
//   --id-token-alg A        RS256 (default) | ES256 | PS256
//   --token-delay-ms N      the token endpoint answers N ms late
//   --require-pkce          refuse authorization requests without PKCE
//   --jwks FILE             signing keys (default jwks.json beside us)
//   --gen-jwks FILE         write a fresh key set to FILE and exit
//
// A second client, ID + "-post" with the same secret and redirect URIs,
// authenticates with client_secret_post.
//
// When ready it prints one JSON line on stdout:
//   {"ready":true,"port":N,"issuer":"http://127.0.0.1:N","pid":N}
// The pid is node's own, so a test can stop exactly this process.
//
// Test-only endpoints (loopback, JSON bodies) change it while it runs:
//   POST /test/role   {"user":"bob","role":"proxy_admin"}  (null: no claim)
//   POST /test/groups {"user":"bob","groups":["a","b"]}
//   POST /test/config {"tokenDelayMs":N,"claimsIn":"id_token"}
//   GET  /test/state  the account table and settings
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

function parseArgs(argv) {
  const opt = {
    port: '0', clientId: 'litellm', clientSecret: 'litellm-client-secret',
    redirectUri: 'http://127.0.0.1:4000/sso/callback', postLogoutUri: '',
    claimsIn: 'userinfo', idTokenAlg: 'RS256', tokenDelayMs: '0',
    requirePkce: false, jwks: path.join(here, 'jwks.json'), genJwks: '',
  };
  const camel = (s) => s.replace(/-([a-z])/g, (_, c) => c.toUpperCase());
  for (const k of Object.keys(opt)) {
    const env = 'IDP_' + k.replace(/[A-Z]/g, (c) => '_' + c).toUpperCase();
    if (process.env[env] !== undefined) {
      opt[k] = typeof opt[k] === 'boolean' ? process.env[env] === '1' : process.env[env];
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (!a.startsWith('--')) throw new Error(`unexpected argument ${a}`);
    const k = camel(a.slice(2));
    if (!(k in opt)) throw new Error(`unknown flag ${a}`);
    if (typeof opt[k] === 'boolean') opt[k] = true;
    else if (i + 1 < argv.length) opt[k] = argv[++i];
    else throw new Error(`flag ${a} needs a value`);
  }
  return opt;
}

// The signing keys live in a committed file: start-up needs no key
// generation and the kids stay the same from run to run.
function genJwks(file) {
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const keys = [
    { ...rsa.privateKey.export({ format: 'jwk' }), kid: 'test-rs256-1', alg: 'RS256', use: 'sig' },
    { ...ec.privateKey.export({ format: 'jwk' }), kid: 'test-es256-1', alg: 'ES256', use: 'sig' },
  ];
  fs.writeFileSync(file, JSON.stringify({ keys }, null, 2) + '\n');
}

// The account table. The subject is the username, as with Authentik's
// "based on the user's username" subject mode.
const accounts = {
  alice: {
    password: 'alice-pw', email: 'alice@example.local', email_verified: true,
    name: 'Alice Admin', litellm_role: 'proxy_admin', groups: ['litellm-admins', 'team-a'],
  },
  bob: {
    password: 'bob-pw', email: 'bob@example.local', email_verified: true,
    name: 'Bob User', litellm_role: 'internal_user', groups: ['team-a'],
  },
  carol: {
    password: 'carol-pw', email: 'carol@example.local', email_verified: false,
    name: 'Carol Nobody', groups: [],
  },
  dave: {
    password: 'dave-pw', email: 'dave@example.local', email_verified: true,
    name: 'Dave Grouped', groups: ['litellm-admins'],
  },
};

const settings = { tokenDelayMs: 0, claimsIn: 'userinfo' };

function accountClaims(id, use) {
  const a = accounts[id];
  const [given, family] = a.name.split(' ');
  const c = {
    sub: id, preferred_username: id, name: a.name, given_name: given,
    family_name: family, email: a.email, email_verified: a.email_verified,
  };
  // The role and groups go where the test asks: the provider itself only
  // filters claims by granted scope (conformIdTokenClaims is off, so the
  // id_token may carry scope claims; this function decides which do).
  const roleHere = settings.claimsIn === 'both' || settings.claimsIn === use;
  if (roleHere) {
    if (a.litellm_role !== undefined) c.litellm_role = a.litellm_role;
    c.groups = a.groups;
  }
  if (use === 'id_token' && settings.claimsIn === 'userinfo') {
    // Like a provider with conformIdTokenClaims on: identity only.
    return { sub: id };
  }
  return c;
}

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(res, status, title, body) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'text/html; charset=utf-8');
  res.setHeader('Cache-Control', 'no-store');
  res.end(`<!DOCTYPE html><html><head><meta charset="utf-8"><title>${esc(title)}</title></head>` +
    `<body><h1>${esc(title)}</h1>${body}</body></html>`);
}

function loginPage(res, status, uid, client, error) {
  page(res, status, 'Test IdP: sign in', `
<p>Signing in to <b>${esc(client)}</b>.</p>
${error ? `<p id="error" role="alert">${esc(error)}</p>` : ''}
<form id="login" method="post" action="/interaction/${esc(uid)}/login">
<label>Username <input id="username" name="username" autocomplete="username" autofocus></label>
<label>Password <input id="password" name="password" type="password" autocomplete="current-password"></label>
<button id="submit" type="submit">Sign in</button>
</form>`);
}

function consentPage(res, uid, client, scopes) {
  page(res, 200, 'Test IdP: consent', `
<p><b>${esc(client)}</b> asks for: <span id="scopes">${esc(scopes.join(' '))}</span></p>
<form id="consent" method="post" action="/interaction/${esc(uid)}/confirm">
<button id="approve" type="submit">Allow</button>
</form>
<form id="deny" method="post" action="/interaction/${esc(uid)}/abort">
<button id="deny" type="submit">Deny</button>
</form>`);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const parts = [];
    let n = 0;
    req.on('data', (d) => {
      n += d.length;
      if (n > 65536) { reject(new Error('body too large')); req.destroy(); return; }
      parts.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(parts).toString('utf8')));
    req.on('error', reject);
  });
}

function json(res, status, obj) {
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json');
  res.end(JSON.stringify(obj) + '\n');
}

async function main() {
  const opt = parseArgs(process.argv.slice(2));
  if (opt.genJwks) { genJwks(opt.genJwks); return; }
  if (!['userinfo', 'id_token', 'both'].includes(opt.claimsIn)) {
    throw new Error('--claims-in must be userinfo, id_token or both');
  }
  settings.tokenDelayMs = Number(opt.tokenDelayMs) || 0;
  settings.claimsIn = opt.claimsIn;
  const { default: Provider, errors } = await import('oidc-provider');
  const jwks = JSON.parse(fs.readFileSync(opt.jwks, 'utf8'));
  const list = (s) => s.split(',').map((x) => x.trim()).filter(Boolean);

  // Listen first so that the issuer can carry the real port.
  const server = http.createServer();
  await new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(Number(opt.port), '127.0.0.1', resolve);
  });
  const port = server.address().port;
  const issuer = `http://127.0.0.1:${port}`;

  const client = {
    client_id: opt.clientId,
    client_secret: opt.clientSecret,
    redirect_uris: list(opt.redirectUri),
    post_logout_redirect_uris: list(opt.postLogoutUri),
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: opt.idTokenAlg,
  };
  const provider = new Provider(issuer, {
    clients: [client, {
      ...client, client_id: `${opt.clientId}-post`, token_endpoint_auth_method: 'client_secret_post',
    }],
    jwks,
    // Cookies of their own names: ssoproxy shares the host 127.0.0.1.
    cookies: {
      names: { session: 'idp_session', interaction: 'idp_interaction', resume: 'idp_resume' },
      keys: ['ssoproxy-test-idp-cookie-key-not-secret'],
    },
    claims: {
      openid: ['sub'],
      email: ['email', 'email_verified'],
      profile: ['name', 'given_name', 'family_name', 'preferred_username'],
      litellm_role: ['litellm_role'],
      groups: ['groups'],
    },
    conformIdTokenClaims: false,
    features: {
      devInteractions: { enabled: false },
      rpInitiatedLogout: {
        enabled: true,
        async logoutSource(ctx, form) {
          ctx.body = `<!DOCTYPE html><html><head><meta charset="utf-8"><title>Test IdP: sign out</title></head>` +
            `<body><h1>Sign out of the test IdP?</h1>${form}` +
            `<button id="logout" type="submit" form="op.logoutForm" value="yes" name="logout">Yes, sign me out</button>` +
            `<button id="stay" type="submit" form="op.logoutForm">No</button></body></html>`;
        },
        async postLogoutSuccessSource(ctx) {
          ctx.body = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Signed out</title></head>' +
            '<body><h1 id="signed-out">Signed out of the test IdP</h1></body></html>';
        },
      },
    },
    pkce: { required: () => opt.requirePkce },
    async findAccount(ctx, id) {
      if (!accounts[id]) return undefined;
      return { accountId: id, claims: async (use) => accountClaims(id, use) };
    },
    async renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = '<!DOCTYPE html><html><head><meta charset="utf-8"><title>Test IdP error</title></head><body>' +
        `<h1>Test IdP error</h1><p id="error">${esc(out.error)}</p>` +
        `<p id="error_description">${esc(out.error_description || '')}</p></body></html>`;
    },
    ttl: { Interaction: 600, Session: 3600, Grant: 3600, AccessToken: 600, IdToken: 600, AuthorizationCode: 60 },
  });
  provider.on('server_error', (ctx, err) => console.error('idp server_error', err));

  const providerHandler = provider.callback();

  async function interaction(req, res, uid, action) {
    const details = await provider.interactionDetails(req, res);
    if (details.uid !== uid) return page(res, 400, 'Test IdP: wrong interaction', '');
    const clientName = details.params.client_id;
    if (req.method === 'GET' && !action) {
      if (details.prompt.name === 'login') return loginPage(res, 200, uid, clientName);
      const scopes = String(details.params.scope || '').split(' ');
      return consentPage(res, uid, clientName, scopes);
    }
    if (req.method !== 'POST') return page(res, 405, 'Method not allowed', '');
    const form = new URLSearchParams(await readBody(req));
    if (action === 'login') {
      const u = form.get('username') || '';
      const a = accounts[u];
      const pw = Buffer.from(form.get('password') || '');
      const ok = a && pw.length === Buffer.byteLength(a.password)
        && crypto.timingSafeEqual(pw, Buffer.from(a.password));
      if (!ok) return loginPage(res, 401, uid, clientName, 'Wrong username or password.');
      return provider.interactionFinished(req, res, { login: { accountId: u } },
        { mergeWithLastSubmission: false });
    }
    if (action === 'confirm') {
      const { prompt: { details: d }, params, session: { accountId } } = details;
      let grant = details.grantId ? await provider.Grant.find(details.grantId) : undefined;
      if (!grant) grant = new provider.Grant({ accountId, clientId: params.client_id });
      if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
      if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
      if (d.missingResourceScopes) {
        for (const [ind, sc] of Object.entries(d.missingResourceScopes)) grant.addResourceScope(ind, sc.join(' '));
      }
      const grantId = await grant.save();
      return provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
    }
    if (action === 'abort') {
      return provider.interactionFinished(req, res, {
        error: 'access_denied', error_description: 'End-User aborted interaction',
      }, { mergeWithLastSubmission: false });
    }
    return page(res, 404, 'Not found', '');
  }

  async function testApi(req, res, what) {
    if (what === 'state' && req.method === 'GET') return json(res, 200, { settings, accounts });
    if (req.method !== 'POST') return json(res, 405, { error: 'POST only' });
    let b;
    try { b = JSON.parse(await readBody(req)); } catch { return json(res, 400, { error: 'bad JSON' }); }
    if (what === 'role' || what === 'groups') {
      const a = accounts[b.user];
      if (!a) return json(res, 404, { error: 'no such user' });
      if (what === 'role') {
        if (b.role === null || b.role === undefined) delete a.litellm_role; else a.litellm_role = b.role;
      } else {
        a.groups = Array.isArray(b.groups) ? b.groups.map(String) : [];
      }
      return json(res, 200, { user: b.user, litellm_role: a.litellm_role ?? null, groups: a.groups });
    }
    if (what === 'config') {
      if (b.tokenDelayMs !== undefined) settings.tokenDelayMs = Number(b.tokenDelayMs) || 0;
      if (b.claimsIn !== undefined) {
        if (!['userinfo', 'id_token', 'both'].includes(b.claimsIn)) return json(res, 400, { error: 'claimsIn' });
        settings.claimsIn = b.claimsIn;
      }
      return json(res, 200, settings);
    }
    return json(res, 404, { error: 'unknown test endpoint' });
  }

  server.on('request', (req, res) => {
    const p = new URL(req.url, issuer).pathname;
    const m = /^\/interaction\/([^/]+)(?:\/(login|confirm|abort))?$/.exec(p);
    const t = /^\/test\/(role|groups|config|state)$/.exec(p);
    const fail = (err) => {
      if (err instanceof errors.SessionNotFound || err instanceof errors.InvalidRequest) {
        return page(res, 400, 'Test IdP: interaction expired or unknown', `<p id="error">${esc(err.message)}</p>`);
      }
      console.error('idp error', err);
      if (!res.headersSent) page(res, 500, 'Test IdP: internal error', '');
    };
    if (m) return void interaction(req, res, m[1], m[2]).catch(fail);
    if (t) return void testApi(req, res, t[1]).catch(fail);
    if (p === '/token' && settings.tokenDelayMs > 0) {
      // The slow-IdP case: the token endpoint answers late. A client that
      // gives up meanwhile simply closes the connection.
      const timer = setTimeout(() => providerHandler(req, res), settings.tokenDelayMs);
      res.on('close', () => clearTimeout(timer));
      return undefined;
    }
    return providerHandler(req, res);
  });

  const stop = () => { server.close(); server.closeAllConnections(); process.exit(0); };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write(JSON.stringify({ ready: true, port, issuer, pid: process.pid }) + '\n');
}

main().catch((err) => {
  console.error(`idp: ${err.message}`);
  process.exit(1);
});
