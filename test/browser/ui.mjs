// A real headless Chromium on ssoproxy's sign-in pages:
//
//   URL=http://127.0.0.1:PORT USER=name PASS=secret node ui.mjs
//
// Opens /ui and checks what a user sees: the sign-in form with its
// labels, a wrong password refused on the page (401, no session cookie),
// the right one leading to the identity page (user id, role) with an
// HttpOnly session cookie that scripts cannot read, the page not
// frameable, and the Sign out button leading back to the sign-in page.
// Every request off the loopback is aborted and counted; any failure
// prints one line and exits 1.
import { chromium } from 'playwright-core';

const { URL: base, USER: user, PASS: pass } = process.env;
if (!base || !user || !pass) {
  console.error('usage: URL=... USER=... PASS=... node ui.mjs');
  process.exit(2);
}
const fail = (why) => { throw new Error(why); };
let offLoopback = 0;
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
let code = 0;
try {
  const context = await browser.newContext();
  await context.route('**/*', (route) => {
    const host = new URL(route.request().url()).hostname;
    if (host === '127.0.0.1' || host === 'localhost') return route.continue();
    offLoopback += 1;
    return route.abort();
  });
  const page = await context.newPage();
  page.setDefaultTimeout(10000);
  const first = await page.goto(base + '/ui');
  if (first.status() !== 200) fail('GET /ui: ' + first.status());
  if (await page.title() !== 'Sign in - ssoproxy') fail('title: ' + await page.title());
  // Labels are tied to their fields (accessibility): fill by label.
  const submit = async (pw) => {
    await page.getByLabel('Username').fill(user);
    await page.getByLabel('Password').fill(pw);
    const [resp] = await Promise.all([
      page.waitForResponse((r) => r.request().method() === 'POST'
        && new URL(r.url()).pathname === '/login'),
      page.getByRole('button', { name: 'Sign in' }).click(),
    ]);
    await page.waitForLoadState();
    return resp.status();
  };
  const sessionCookie = async () => (await context.cookies())
    .find((c) => c.name === 'ssoproxy_session');

  const wrong = await submit(pass + 'x');
  if (wrong !== 401) fail('wrong password: ' + wrong);
  if (!(await page.getByRole('alert').innerText()).includes('Wrong username or password')) {
    fail('no error shown for a wrong password');
  }
  if (await sessionCookie()) fail('a session cookie after a wrong password');

  const right = await submit(pass);
  if (right !== 303) fail('right password: ' + right);
  if (new URL(page.url()).pathname !== '/ui') fail('landed on ' + page.url());
  const text = await page.locator('main').innerText();
  if (!text.includes('You are signed in.') || !text.includes(user)
      || !text.includes('proxy_admin')) fail('identity page: ' + text);
  const c = await sessionCookie();
  if (!c || !c.httpOnly || c.sameSite !== 'Lax' || c.path !== '/') {
    fail('session cookie: ' + JSON.stringify(c));
  }
  if ((await page.evaluate(() => document.cookie)).includes('ssoproxy_session')) {
    fail('scripts can read the session cookie');
  }
  // The browser enforces frame-ancestors: a frame of /ui stays empty.
  await page.setContent(`<iframe id="f" src="${base}/ui"></iframe>`);
  await page.waitForTimeout(500);
  const framed = page.frames().find((f) => f.url().startsWith(base));
  if (framed && (await framed.content()).includes('You are signed in')) {
    fail('/ui rendered inside a frame');
  }

  await page.goto(base + '/ui');
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.waitForSelector('#password');
  if (new URL(page.url()).pathname !== '/ui') fail('after sign-out: ' + page.url());
  if (await sessionCookie()) fail('session cookie kept after sign-out');
  if (offLoopback) fail(offLoopback + ' requests off the loopback');
  console.log(JSON.stringify({ ok: true, wrong, right }));
} catch (e) {
  console.log('browser check failed: ' + e.message);
  code = 1;
} finally {
  await browser.close();
}
process.exit(code);
