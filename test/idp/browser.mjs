// A real headless Chromium logging in through ssoproxy and the test IdP.
//
//   node browser.mjs START_URL USER PASSWORD [WRONG_PASSWORD]
//
// The browser opens START_URL (ssoproxy's /ui with auto-redirect to SSO,
// or /sso/key/generate), signs in at the IdP's login page (first with
// WRONG_PASSWORD when given, expecting a 401 there), approves the consent
// page, follows the redirects back to ssoproxy and then fetches
// /oauth2/userinfo with the browser's own cookies. It
// prints one JSON line:
//   {"wrongStatus":401,"loginStatus":303,"finalUrl":"...","pageText":"...",
//    "userinfoStatus":200,"userinfo":{...},"offLoopback":0,"cookies":[...]}
// Every request to a host other than 127.0.0.1/localhost is aborted (and
// counted), so the test never touches the network.
import { chromium } from 'playwright-core';

const [startUrl, user, pass, wrong] = process.argv.slice(2);
if (!startUrl || !user || !pass) {
  console.error('usage: node browser.mjs START_URL USER PASSWORD [WRONG_PASSWORD]');
  process.exit(2);
}

const out = { offLoopback: 0 };
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
try {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    out.offLoopback += 1;
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(15000);
  await page.goto(startUrl);
  await page.waitForSelector('#username');
  out.idpLoginUrl = page.url();
  const submit = async (pw) => {
    await page.fill('#username', user);
    await page.fill('#password', pw);
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST' && /\/login$/.test(r.url())),
      page.click('#submit'),
    ]);
    return resp.status();
  };
  if (wrong) {
    out.wrongStatus = await submit(wrong);
    await page.waitForSelector('#error');
  }
  out.loginStatus = await submit(pass);
  // Consent comes only once per IdP session and client; then the browser
  // leaves the IdP for ssoproxy.
  const base = new URL(startUrl).origin;
  const atConsent = page.locator('#approve');
  const back = page.waitForURL((u) => u.origin === base && u.pathname !== '/sso/callback',
    { waitUntil: 'load' });
  out.step = 'consent';
  await Promise.race([atConsent.waitFor(), back]);
  if (await atConsent.count()) await atConsent.click();
  out.step = 'back';
  await back;
  delete out.step;
  out.finalUrl = page.url();
  out.pageText = (await page.locator('body').innerText()).slice(0, 2000);
  // The browser context's own request client sends the browser's cookies
  // (the page's CSP may forbid fetch() from the page itself).
  const r = await context.request.get(`${base}/oauth2/userinfo`);
  out.userinfoStatus = r.status();
  const body = await r.text();
  try { out.userinfo = JSON.parse(body); } catch { out.userinfo = body.slice(0, 500); }
  out.cookies = (await context.cookies()).map((c) => ({
    name: c.name, httpOnly: c.httpOnly, sameSite: c.sameSite, path: c.path,
  }));
} catch (err) {
  out.error = String(err && err.message ? err.message : err).split('\n')[0];
} finally {
  await browser.close();
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(out.error ? 1 : 0);
