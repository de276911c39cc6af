// Serves the built site (dist/) on 127.0.0.1 and drives Debian's Chromium with playwright-core.
// Every request the page makes is recorded, so tests can prove nothing leaves the origin.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

const TYPES = {
  '.html': 'text/html', '.js': 'text/javascript', '.wasm': 'application/wasm', '.css': 'text/css',
  '.json': 'application/json', '.svg': 'image/svg+xml', '.bpk': 'application/octet-stream',
};

export const DIST = path.resolve(process.env.MOTIF_DIST ?? 'dist');
export const CHROMIUM = process.env.MOTIF_CHROMIUM ?? '/usr/bin/chromium';

export function serve(root = DIST) {
  if (!fs.existsSync(path.join(root, 'index.html'))) {
    throw new Error(`${root}/index.html is missing: build the site first (trunk build --release)`);
  }
  const server = http.createServer((req, res) => {
    const url = new URL(req.url, 'http://localhost');
    let file = path.join(root, decodeURIComponent(url.pathname));
    if (!file.startsWith(root)) { res.writeHead(403).end(); return; }
    if (fs.existsSync(file) && fs.statSync(file).isDirectory()) file = path.join(file, 'index.html');
    fs.readFile(file, (err, data) => {
      if (err) { res.writeHead(404).end('not found'); return; }
      res.writeHead(200, { 'content-type': TYPES[path.extname(file)] ?? 'application/octet-stream' });
      res.end(data);
    });
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      resolve({ origin: `http://127.0.0.1:${port}`, close: () => server.close() });
    });
  });
}

export async function launch() {
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`${CHROMIUM} is missing: install Debian's chromium (scripts/test.sh does)`);
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox', '--enable-unsafe-webgpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
    ],
  });
}

/// A fresh page that records every request URL into `requests` and page errors into `errors`.
export async function openPage(browser, url, { requests = [], errors = [], setup, viewport = { width: 1200, height: 900 } } = {}) {
  const context = await browser.newContext({ acceptDownloads: true, viewport });
  if (setup) await setup(context);
  const page = await context.newPage();
  page.on('request', (r) => requests.push(r.url()));
  page.on('pageerror', (e) => errors.push(String(e)));
  // A Rust panic reaches the console through console_error_panic_hook.
  page.on('console', (m) => { if (m.type() === 'error' && /panicked/.test(m.text())) errors.push(m.text()); });
  await page.goto(url);
  return page;
}

export const byId = (page, id) => page.locator(`[data-testid="${id}"]`);

export async function waitStatus(page, wanted, timeout = 120_000) {
  await page.waitForFunction(
    (wanted) => {
      const s = document.querySelector('[data-testid="status"]')?.textContent;
      return wanted.includes(s);
    },
    Array.isArray(wanted) ? wanted : [wanted],
    { timeout },
  );
  return byId(page, 'status').textContent();
}

export async function setInput(page, id, value) {
  await byId(page, id).fill(String(value));
}

/// Clicks Generate, waits until the status leaves `generating`, and returns every value the
/// note count showed on the way (recorded in the page by a MutationObserver, so none is missed).
export async function generate(page, timeout = 300_000) {
  await page.evaluate(() => {
    const el = document.querySelector('[data-testid="note-count"]');
    window.__counts = [];
    window.__observer?.disconnect();
    window.__observer = new MutationObserver(() => window.__counts.push(Number(el.textContent)));
    window.__observer.observe(el, { childList: true, subtree: true, characterData: true });
  });
  await byId(page, 'generate').click();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="status"]')?.textContent !== 'generating',
    null,
    { timeout, polling: 50 },
  );
  const status = await byId(page, 'status').textContent();
  const counts = await page.evaluate(() => window.__counts);
  return { status, counts, final: Number(await byId(page, 'note-count').textContent()) };
}

export async function download(page, button = 'download') {
  const [file] = await Promise.all([page.waitForEvent('download', { timeout: 120_000 }), byId(page, button).click()]);
  const stream = await file.createReadStream();
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return { name: file.suggestedFilename(), bytes: Buffer.concat(chunks) };
}

/// A context setup that records the page's main-thread tasks over 50 ms (the browser's
/// `longtask` entries) in `window.__longTasks`, from the first script on. The engine worker
/// should leave the page none (issue 10).
export const recordLongTasks = (context) => context.addInitScript(() => {
  window.__longTasks = [];
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) window.__longTasks.push(entry.duration);
  }).observe({ type: 'longtask', buffered: true });
});
