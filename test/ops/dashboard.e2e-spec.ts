import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import request from 'supertest';
import { resolveChromium } from '../../scripts/chromium-path';
import { FakeMediaNode } from '../support/fake-media-node';
import { createTestApp, type TestApp } from '../support/test-app';

const ARTIFACTS = join(__dirname, '..', 'artifacts');

/**
 * Chromium as `npm test`'s set-up (scripts/provision-test-env.js) found or installed it:
 * CHROMIUM_PATH, else Debian's /usr/bin/chromium, else `chromium` on PATH. Headless,
 * offline; playwright gives every launch a fresh temporary profile.
 */
async function launch(): Promise<Browser> {
  const executablePath = resolveChromium();
  if (!executablePath) throw new Error('Chromium not found (CHROMIUM_PATH, /usr/bin/chromium, chromium on PATH): run `npm test`, whose set-up installs it, or apt-get install chromium');
  return chromium.launch({
    executablePath,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic',
      '--no-first-run', '--disable-component-update', '--disable-sync',
    ],
  });
}

/** Collects console errors and page errors (a CSP violation shows up as a console error). */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(e.message));
  return errors;
}

const rowOf = (page: Page, id: string) => page.locator(`tr[data-node-id="${id}"]`);

describe('dashboard in headless Chromium', () => {
  let browser: Browser;
  let nodes: FakeMediaNode[];
  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    nodes = await Promise.all(['n1', 'n2', 'n3'].map((id) => new FakeMediaNode(id).start()));
    browser = await launch();
  }, 30_000);
  afterAll(async () => {
    await browser?.close();
    await Promise.all((nodes ?? []).map((n) => n.stop()));
  });

  describe('without RTP_API_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ listen: true });
      const http = request(t.app.getHttpServer());
      await http.post('/v1/nodes/register').send({ node_id: 'n1', control_url: nodes[0].url, capacity: 10, active_legs: 3, region: 'eu-west' }).expect(200);
      await http.post('/v1/nodes/register').send({ node_id: 'n2', control_url: nodes[1].url, active_legs: 1 }).expect(200);
    });
    afterAll(() => t.close());

    it('renders the nodes without JavaScript on first load', async () => {
      const ctx = await browser.newContext({ javaScriptEnabled: false });
      try {
        const page = await ctx.newPage();
        await page.goto(t.url + '/');
        await expect(rowOf(page, 'n1').locator('td.region').textContent()).resolves.toBe('eu-west');
        await expect(rowOf(page, 'n1').locator('td.load .legs').textContent()).resolves.toBe('3 / 10');
        await expect(rowOf(page, 'n1').locator('meter').getAttribute('value')).resolves.toBe('3');
        await expect(rowOf(page, 'n2').locator('td.health').textContent()).resolves.toBe('healthy');
        await expect(page.locator('#s-total').textContent()).resolves.toBe('2');
      } finally {
        await ctx.close();
      }
    });

    it('refreshes itself: a drain through the API, a new node and a drain button show without a reload', async () => {
      const ctx = await browser.newContext({ viewport: { width: 1200, height: 700 } });
      try {
        const page = await ctx.newPage();
        const errors = watchErrors(page);
        await page.goto(t.url + '/');
        // The script ran (same-origin file under the CSP) and refreshed at least once.
        await page.waitForSelector('body[data-refreshes]', { timeout: 10_000 });
        const navigations: string[] = [];
        page.on('framenavigated', (f) => navigations.push(f.url()));

        const http = request(t.app.getHttpServer());
        await http.post('/v1/nodes/n2/drain').expect(200);
        await page.waitForSelector('tr[data-node-id="n2"].draining', { timeout: 10_000 });
        await expect(rowOf(page, 'n2').locator('td.draining').textContent()).resolves.toBe('draining');
        await expect(rowOf(page, 'n2').locator('button').textContent()).resolves.toBe('undrain');

        await http.post('/v1/nodes/register').send({ node_id: 'n3', control_url: nodes[2].url, capacity: 4, active_legs: 4 }).expect(200);
        await page.waitForSelector('tr[data-node-id="n3"]', { timeout: 10_000 });
        await expect(page.locator('#s-total').textContent()).resolves.toBe('3');

        // The button drains n1 through POST /v1/nodes/n1/drain.
        await rowOf(page, 'n1').locator('button[data-action="drain"]').click();
        await page.waitForSelector('tr[data-node-id="n1"].draining', { timeout: 10_000 });
        const n1 = await http.get('/v1/nodes/n1').expect(200);
        expect(n1.body.draining).toBe(true);
        await expect(page.locator('#s-draining').textContent()).resolves.toBe('2');

        // And undrains it again.
        await rowOf(page, 'n1').locator('button[data-action="undrain"]').click();
        await page.waitForSelector('tr[data-node-id="n1"].healthy', { timeout: 10_000 });
        expect((await http.get('/v1/nodes/n1').expect(200)).body.draining).toBe(false);

        expect(navigations).toEqual([]);
        expect(errors).toEqual([]);
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard.png'), fullPage: true });
      } finally {
        await ctx.close();
      }
    }, 60_000);
  });

  describe('Swagger UI under the same Content-Security-Policy', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ listen: true });
    });
    afterAll(() => t.close());

    it('renders every operation at /docs', async () => {
      const ctx = await browser.newContext();
      try {
        const page = await ctx.newPage();
        const errors = watchErrors(page);
        await page.goto(t.url + '/docs');
        await page.waitForSelector('.opblock', { timeout: 15_000 });
        const paths = await page.locator('.opblock .opblock-summary-path').allTextContents();
        expect(paths.map((p) => p.replace(/\u200b/g, ''))).toEqual(expect.arrayContaining(['/v1/nodes/register', '/v1/calls', '/v1/calls/{call_id}/start']));
        expect(errors.filter((e) => /Content Security Policy/i.test(e))).toEqual([]);
      } finally {
        await ctx.close();
      }
    }, 30_000);
  });

  describe('with RTP_API_TOKEN', () => {
    let t: TestApp;
    beforeAll(async () => {
      t = await createTestApp({ listen: true, env: { RTP_API_TOKEN: 'dash-token' } });
      await request(t.app.getHttpServer()).post('/v1/nodes/register').send({ node_id: 'n1', control_url: nodes[0].url }).expect(200);
    });
    afterAll(() => t.close());

    it('shows nothing until the token is entered, then the nodes and working drain buttons', async () => {
      const ctx = await browser.newContext();
      try {
        const page = await ctx.newPage();
        const errors = watchErrors(page);
        await page.goto(t.url + '/');
        await expect(page.locator('#token-form').isVisible()).resolves.toBe(true);
        await expect(rowOf(page, 'n1').count()).resolves.toBe(0);

        await page.fill('#token', 'wrong');
        await page.click('#token-form button[type="submit"]');
        await page.waitForSelector('#status.bad', { timeout: 10_000 });
        await expect(page.locator('#status').textContent()).resolves.toMatch(/refused/);
        await expect(rowOf(page, 'n1').count()).resolves.toBe(0);

        await page.fill('#token', 'dash-token');
        await page.click('#token-form button[type="submit"]');
        await page.waitForSelector('tr[data-node-id="n1"]', { timeout: 10_000 });
        // Kept for the session only.
        await expect(page.evaluate("sessionStorage.getItem('rtp-pool.apiToken')")).resolves.toBe('dash-token');
        await expect(page.evaluate('localStorage.length')).resolves.toBe(0);

        await rowOf(page, 'n1').locator('button[data-action="drain"]').click();
        await page.waitForSelector('tr[data-node-id="n1"].draining', { timeout: 10_000 });
        const n1 = await request(t.app.getHttpServer()).get('/v1/nodes/n1').set('Authorization', 'Bearer dash-token').expect(200);
        expect(n1.body.draining).toBe(true);
        // The refused token's 401 is the only console error the page may show.
        expect(errors.filter((e) => !/401/.test(e))).toEqual([]);
        await page.screenshot({ path: join(ARTIFACTS, 'dashboard-token.png'), fullPage: true });
      } finally {
        await ctx.close();
      }
    }, 60_000);
  });
});
