import os from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { startTestSystem, TestSystem } from './support';

/** /docs renders in a real browser (Debian's Chromium, driven by playwright-core) and lists the order endpoints. */
describe('Swagger UI at /docs in headless Chromium', () => {
  let t: TestSystem;
  beforeAll(async () => {
    t = await startTestSystem();
  }, 180_000);
  afterAll(() => t?.stop());

  it('when /docs is opened, then Swagger UI renders offline and lists every order operation', async () => {
    const browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      const offsite: string[] = [];
      page.on('request', (request) => {
        if (!request.url().startsWith(t.url) && !request.url().startsWith('data:')) offsite.push(request.url());
      });
      await page.goto(`${t.url}/docs`, { waitUntil: 'networkidle' });
      await page.waitForSelector('.opblock', { timeout: 20_000 });
      const operations = await page.$$eval('.opblock-summary', (nodes) => nodes.map((n) => n.textContent?.replace(/\s+/g, ' ').trim() ?? ''));
      for (const op of [
        'POST/api/orders',
        'GET/api/orders',
        'GET/api/orders/{id}',
        'POST/api/orders/{id}/cancel',
        'POST/api/orders/{id}/pay',
        'POST/api/orders/{id}/ship',
      ]) {
        expect(operations.some((text) => text.replace(/\s/g, '').startsWith(op))).toBe(true);
      }
      expect(await page.title()).toMatch(/Swagger UI/i);
      expect(offsite).toEqual([]);
      await page.screenshot({ path: path.join(os.tmpdir(), 'orderflow-docs.png') });
    } finally {
      await browser.close();
    }
  }, 60_000);
});
