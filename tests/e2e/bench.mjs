// Browser benchmark: per style and backend, time to the first note after the click and ms per
// generated note; plus the page's weight. Prints a table; asserts nothing.
//   node tests/e2e/bench.mjs [--notes 500] [--webgpu-notes 64] [--runs 2] [--style ID] [--backend cpu|webgpu]
// After the runs, the main-thread tasks over 50 ms of what a listener does next with the piece
// (download it, play it) are listed too: the engine worker keeps generation
// off the page's thread, and these show what is left on it.
// (SwiftShader, the only WebGPU adapter in headless Chromium without a GPU, takes ~0.3 s a
// step, so the WebGPU column uses fewer notes by default.)

import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';

import { DIST, serve, launch, openPage, byId, waitStatus, setInput, generate, download, recordLongTasks } from './harness.mjs';

const arg = (name, fallback) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? Number(process.argv[at + 1]) : fallback;
};
const text = (name) => {
  const at = process.argv.indexOf(`--${name}`);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const onlyStyle = text('style');
const onlyBackend = text('backend');
const notes = arg('notes', 500);
const webgpuNotes = arg('webgpu-notes', 64);
const runs = arg('runs', 2);

const kb = (n) => `${(n / 1024).toFixed(0)} KiB`;
const gz = (file) => zlib.gzipSync(fs.readFileSync(file), { level: 9 }).length;

console.log('page weight (dist/):');
for (const file of fs.readdirSync(DIST)) {
  const full = path.join(DIST, file);
  if (fs.statSync(full).isFile()) console.log(`  ${file}: ${kb(fs.statSync(full).size)} raw, ${kb(gz(full))} gzipped`);
}
const index = JSON.parse(fs.readFileSync(path.join(DIST, 'models', 'index.json'), 'utf8'));
for (const s of index.styles) console.log(`  models/${s.path}: ${(s.bytes / 1e6).toFixed(2)} MB weights, ${s.parameters} parameters (${s.cell})`);

const takeLongTasks = (page) => page.evaluate(() => window.__longTasks.splice(0));
const longTasks = (tasks) => tasks.length ? `${tasks.length}, ${Math.max(...tasks).toFixed(0)} ms` : '0';

const server = await serve();
const browser = await launch();
const phases = [];
console.log(`\n| style | backend | notes | tokens | load + warm-up ms | first note ms | ms per note | ms per token | main-thread tasks > 50 ms in load: count, longest | in generation | adapter |`);
console.log(`|---|---|---|---|---|---|---|---|---|---|---|`);
for (const style of index.styles.filter((s) => !onlyStyle || s.id === onlyStyle)) {
  for (const backend of ['cpu', 'webgpu'].filter((b) => !onlyBackend || b === onlyBackend)) {
    const count = backend === 'cpu' ? notes : webgpuNotes;
    const page = await openPage(browser, `${server.origin}/?backend=${backend}&style=${style.id}`, { setup: recordLongTasks });
    const started = Date.now();
    await waitStatus(page, ['idle', 'error'], 600_000);
    const loadMs = Date.now() - started;
    const loadTasks = await takeLongTasks(page);
    const detail = (await page.locator('.backend .detail').textContent()).slice(0, 60);
    await setInput(page, 'length', count);
    for (let run = 1; run <= runs; run++) {
      await setInput(page, 'seed', 100 + run);
      const { status } = await generate(page, 1_800_000);
      if (status !== 'done') { console.log(`| ${style.id} | ${backend} | failed: ${await byId(page, 'error').textContent()} |`); break; }
      const t = byId(page, 'timing');
      const [first, total, n, tokens] = await Promise.all(
        ['data-first-note-ms', 'data-total-ms', 'data-notes', 'data-tokens'].map((a) => t.getAttribute(a).then(Number)));
      const runTasks = await takeLongTasks(page);
      console.log(`| ${style.id} | ${backend} (run ${run}) | ${n} | ${tokens} | ${loadMs} | ${first.toFixed(0)} | ${(total / n).toFixed(2)} | ${(total / tokens).toFixed(2)} | ${longTasks(run === 1 ? loadTasks : [])} | ${longTasks(runTasks)} | ${detail} |`);
    }
    const after = [];
    await download(page);
    after.push(`MIDI download ${longTasks(await takeLongTasks(page))}`);
    await byId(page, 'play').click();
    await page.waitForTimeout(1500);
    await byId(page, 'play').click();
    after.push(`play 1.5 s ${longTasks(await takeLongTasks(page))}`);
    phases.push(`${style.id} on ${backend}, main-thread tasks over 50 ms: ${after.join('; ')}`);
    await page.context().close();
  }
}
for (const line of phases) console.log(line);
await browser.close();
server.close();
