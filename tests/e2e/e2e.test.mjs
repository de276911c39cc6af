// End-to-end: the built site (dist/) in a real headless Chromium. Run by scripts/test.sh after
// `trunk build --release`; MOTIF_TRAINER_CLI points at the native trainer for the same-notes test.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import zlib from 'node:zlib';
import path from 'node:path';

import { DIST, serve, launch, openPage, byId, waitStatus, setInput, generate, download, recordLongTasks } from './harness.mjs';
import { readMidi, writeMidi } from './midi.mjs';

const OUT = path.resolve(process.env.MOTIF_E2E_OUT ?? 'tests/e2e/out');
fs.mkdirSync(OUT, { recursive: true });
const index = JSON.parse(fs.readFileSync(path.join(DIST, 'models', 'index.json'), 'utf8'));
const MODELS = path.resolve(process.env.MOTIF_MODELS ?? 'public/models');
const CLI = process.env.MOTIF_TRAINER_CLI;
const LONG = { timeout: 900_000 };

let server;
let browser;
const requests = [];
const errors = [];

before(async () => {
  server = await serve();
  browser = await launch();
});
after(async () => {
  await browser?.close();
  server?.close();
});

const open = (query, setup) => openPage(browser, `${server.origin}/${query}`, { requests, errors, setup });
// A page whose style has loaded, ready to generate.
const openIdle = async (query, setup) => {
  const page = await open(query, setup);
  await waitStatus(page, 'idle', 180_000);
  return page;
};

/// trainer-cli generate with the page's settings; returns the file's bytes. Sampling flags left
/// out take the bundle's tuned defaults, which the page must start from too.
function cliGenerate(style, { length, seed, tempo = 110, prime = 'random', extra = [] }) {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'motif-e2e-')), 'piece.mid');
  execFileSync(CLI, [
    'generate', '--model', path.join(MODELS, style.path), '--length', String(length), '--seed', String(seed),
    '--tempo', String(tempo), '--prime', prime, '--out', out, ...extra,
  ], { stdio: 'pipe' });
  return fs.readFileSync(out);
}

test('the page lists every shipped style and says which backend runs', LONG, async () => {
  assert.ok(index.styles.length >= 1, 'models/index.json lists styles');
  const page = await openIdle('');
  const options = await byId(page, 'style-select').locator('option').evaluateAll((os) => os.map((o) => o.value));
  assert.deepEqual(options, index.styles.map((s) => s.id));
  assert.match(await byId(page, 'backend').textContent(), /^(webgpu|cpu)$/);
  // The model lives in the engine worker: the page's own thread only renders and plays.
  // Headless Chromium's only WebGPU adapter is SwiftShader, a software one: the page starts
  // the CPU-only build of the engine, and says so.
  assert.deepEqual(page.workers().map((w) => new URL(w.url()).pathname), ['/engine-cpu-worker.js']);
  assert.match(await page.locator('.backend .detail').textContent(), /software fallback/);
  await page.screenshot({ path: path.join(OUT, 'loaded.png'), fullPage: true });
  await page.context().close();
});

test('the WebGPU engine downloads in under 2 MB gzipped, the CPU-only one in under a third of that, and ?backend=webgpu starts the WebGPU one', LONG, async () => {
  const gzipped = (file) => zlib.gzipSync(fs.readFileSync(path.join(DIST, file)), { level: 9 }).length;
  const [cpu, webgpu] = [gzipped('motif-engine-cpu_bg.wasm'), gzipped('motif-engine_bg.wasm')];
  assert.ok(webgpu <= 2_000_000, `WebGPU engine ${webgpu} bytes gzipped`);
  assert.ok(cpu < webgpu / 3, `CPU engine ${cpu} bytes gzipped, WebGPU engine ${webgpu}`);
  const page = await openIdle('?backend=webgpu');
  assert.deepEqual(page.workers().map((w) => new URL(w.url()).pathname), ['/engine-worker.js']);
  assert.equal(await byId(page, 'backend').textContent(), 'webgpu');
  await page.context().close();
});

for (const style of index.styles) {
  for (const backend of ['cpu', 'webgpu']) {
    // The CPU step makes 64 notes in a few milliseconds, too fast to see them stream: it is
    // asked for more. SwiftShader's WebGPU takes ~0.3 s a token, so 64 show it well.
    const length = backend === 'cpu' ? 1500 : 64;
    test(`${style.id} on ${backend}: ${length} notes stream onto the roll and download as a valid MIDI file`, LONG, async (t) => {
      const page = await open(`?backend=${backend}&style=${style.id}`, recordLongTasks);
      await waitStatus(page, 'idle', 300_000);
      assert.equal(await byId(page, 'backend').textContent(), backend);
      await setInput(page, 'length', length);
      await setInput(page, 'seed', 7);
      const { status, counts, final } = await generate(page, 600_000);
      assert.equal(status, 'done', await byId(page, 'error').textContent());
      // The last token may be a chord, so a piece can end a few notes past the length asked for.
      assert.ok(final >= length && final < length + 16, `${final} notes`);
      assert.ok(counts.some((c) => c > 0 && c < length), `the count grew while generating (saw ${counts.join(',')})`);
      const { name, bytes } = await download(page);
      assert.equal(name, `${style.id}-seed-7.mid`);
      const midi = readMidi(bytes);
      assert.equal(midi.format, 0);
      // A key struck twice at one instant is one note in the file (a few in a long piece).
      assert.ok(midi.notes.length >= 0.97 * length, `${midi.notes.length} notes in the file`);
      if (CLI) {
        const expected = cliGenerate(style, { length, seed: 7 });
        assert.ok(bytes.equals(expected), `the page's file equals trainer-cli generate's (${bytes.length} vs ${expected.length} bytes)`);
      }
      // Reported, not asserted (timings vary by machine): the engine worker should leave the
      // page's thread no task over 50 ms while loading and generating.
      t.diagnostic(`main-thread tasks over 50 ms: ${JSON.stringify(await page.evaluate(() => window.__longTasks.map(Math.round)))}`);
      await page.screenshot({ path: path.join(OUT, `${style.id}-${backend}.png`), fullPage: true });
      await page.context().close();
    });
  }
}

test('?backend=measure times the CPU against WebGPU after warm-up and generates on the faster (the CPU, against SwiftShader)', LONG, async (t) => {
  if (!CLI) return t.skip('MOTIF_TRAINER_CLI is not set');
  const style = index.styles[0];
  const page = await openIdle(`?backend=measure&style=${style.id}`);
  const detail = await page.locator('.backend .detail').textContent();
  const m = detail.match(/measured: ([\d.]+) ms a token on the CPU, ([\d.]+) on WebGPU; the (CPU|WebGPU) generates/);
  assert.ok(m, detail);
  t.diagnostic(detail);
  const [cpu, gpu] = [Number(m[1]), Number(m[2])];
  assert.equal(m[3], cpu <= gpu ? 'CPU' : 'WebGPU', 'the faster one generates');
  assert.equal(await byId(page, 'backend').textContent(), m[3] === 'CPU' ? 'cpu' : 'webgpu');
  await setInput(page, 'length', 100);
  await setInput(page, 'seed', 4);
  assert.equal((await generate(page)).status, 'done');
  assert.ok((await download(page)).bytes.equals(cliGenerate(style, { length: 100, seed: 4 })), 'the measured engine writes the same piece');
  await page.context().close();
});

test('a MIDI file the user picks starts the piece, and matches trainer-cli --prime FILE', LONG, async (t) => {
  const style = index.styles[0];
  const scale = [60, 62, 64, 65, 67, 69, 71, 72];
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'motif-prime-')), 'scale.mid');
  fs.writeFileSync(file, writeMidi(scale));
  const page = await openIdle(`?backend=cpu&style=${style.id}`);
  await byId(page, 'prime-file').setInputFiles(file);
  await page.waitForFunction(() => document.querySelector('[data-testid="start"]').value === 'file');
  await setInput(page, 'length', 32);
  await setInput(page, 'seed', 3);
  const { status, final } = await generate(page);
  assert.equal(status, 'done', await byId(page, 'error').textContent());
  assert.ok(final >= 32, `${final} notes`);
  const { bytes } = await download(page);
  const notes = readMidi(bytes).notes;
  // The prime's notes open the file, one per beat (480 ticks); the network continues from beat 7.
  const opening = notes.filter((n) => n.start < 7 * 480).map((n) => [n.start, n.pitch]);
  assert.deepEqual(opening, scale.slice(0, 7).map((p, i) => [i * 480, p]), 'the file opens with the prime');
  assert.ok(notes.some((n) => n.start === 7 * 480 && n.pitch === 72));
  // A key struck twice at one instant is one note in the file (the network may write both).
  assert.ok(notes.length <= scale.length + final && notes.length >= scale.length + final - 2,
    `${notes.length} notes in the file for ${scale.length} + ${final}`);
  if (CLI) assert.ok(bytes.equals(cliGenerate(style, { length: 32, seed: 3, prime: file })));
  else t.diagnostic('MOTIF_TRAINER_CLI unset: not compared with trainer-cli');
  await page.context().close();
});

test('a key and scale keep every generated pitch in them, as trainer-cli --key --scale does', LONG, async (t) => {
  const style = index.styles[0];
  const page = await openIdle(`?backend=cpu&style=${style.id}`);
  await byId(page, 'start').selectOption('nothing');
  await byId(page, 'key').selectOption('D');
  await byId(page, 'scale').selectOption('dorian');
  await setInput(page, 'length', 48);
  await setInput(page, 'seed', 5);
  const { status, final } = await generate(page);
  assert.equal(status, 'done', await byId(page, 'error').textContent());
  assert.ok(final >= 48, `${final} notes`);
  const { bytes } = await download(page);
  // D dorian is the white keys.
  const outside = readMidi(bytes).notes.filter((n) => ![0, 2, 4, 5, 7, 9, 11].includes(n.pitch % 12));
  assert.deepEqual(outside, [], 'every pitch is in D dorian');
  if (CLI) {
    const expected = cliGenerate(style, { length: 48, seed: 5, prime: 'none', extra: ['--key', 'D', '--scale', 'dorian'] });
    assert.ok(bytes.equals(expected), 'the page\'s file equals trainer-cli generate --key D --scale dorian');
  } else t.diagnostic('MOTIF_TRAINER_CLI unset: not compared with trainer-cli');
  await page.context().close();
});

/// A sampling setting changes the piece, and the page's file equals trainer-cli given the same
/// value by its flag (the style's other settings left as tuned, on both sides).
/// Sets a setting, an input or a select alike.
const setSetting = async (page, id, value) =>
  (await byId(page, id).evaluate((el) => el.tagName)) === 'SELECT'
    ? byId(page, id).selectOption(String(value))
    : setInput(page, id, value);

/// A setting at `value` gives another piece than at `plain`, and the same piece as trainer-cli
/// given `flag value`; `also` lists other settings both are given first ([testid, value, flag]).
const settingChangesThePiece = ({ label, testid, value, plain = 0, flag, seed, also = [] }) => async (t) => {
  const style = index.styles[0];
  const page = await openIdle(`?backend=cpu&style=${style.id}`);
  await setInput(page, 'length', 200);
  await setInput(page, 'seed', seed);
  for (const [id, setting] of also) await setSetting(page, id, setting);
  const piece = async (setting) => {
    await setSetting(page, testid, setting);
    const { status } = await generate(page);
    assert.equal(status, 'done', await byId(page, 'error').textContent());
    return (await download(page)).bytes;
  };
  const changed = await piece(value);
  const unchanged = await piece(plain);
  assert.ok(!changed.equals(unchanged), `${label} changes the piece`);
  if (CLI) {
    const extra = [...also.flatMap(([, setting, alsoFlag]) => [alsoFlag, String(setting)]), flag, String(value)];
    const expected = cliGenerate(style, { length: 200, seed, extra });
    assert.ok(changed.equals(expected), `the page's file equals trainer-cli generate ${extra.join(' ')}`);
  } else t.diagnostic('MOTIF_TRAINER_CLI unset: not compared with trainer-cli');
  await page.context().close();
};

test('the Motifs setting restates figures, and the page\'s piece equals trainer-cli --motif-memory', LONG,
  settingChangesThePiece({ label: 'Motifs', testid: 'motifs', value: 0.9, flag: '--motif-memory', seed: 11 }));

test('the Pace setting changes the note lengths, and the page\'s piece equals trainer-cli --pace-memory', LONG,
  settingChangesThePiece({ label: 'Pace', testid: 'pace', value: 0.7, flag: '--pace-memory', seed: 12 }));

test('Shape "pitches only" leaves the rhythm to the network, and the page\'s piece equals trainer-cli --shaped pitches', LONG,
  settingChangesThePiece({
    label: 'Shape', testid: 'shaped', value: 'pitches', plain: 'all', flag: '--shaped', seed: 13,
    also: [['temperature', 0.6, '--temperature']],
  }));

test('Copy link carries style, seed and every setting: the link reproduces the same piece', LONG, async () => {
  const style = index.styles[1] ?? index.styles[0];
  const page = await openIdle(`?backend=cpu&style=${style.id}`);
  await setInput(page, 'length', 120);
  await setInput(page, 'seed', 21);
  await setInput(page, 'temperature', 0.8);
  await setInput(page, 'motifs', 0.5);
  await byId(page, 'shaped').selectOption('pitches');
  await byId(page, 'key').selectOption('E');
  await byId(page, 'scale').selectOption('dorian');
  assert.equal((await generate(page)).status, 'done', await byId(page, 'error').textContent());
  const original = (await download(page)).bytes;
  await byId(page, 'copy-link').click();
  const link = await byId(page, 'share-link').inputValue();
  assert.match(link, new RegExp(`style=${style.id}.*seed=21`));
  await page.screenshot({ path: path.join(OUT, 'link.png'), fullPage: true });
  await page.context().close();

  // A fresh visitor opening the link (on the CPU backend) gets the same settings and notes.
  const url = new URL(link);
  url.searchParams.set('backend', 'cpu');
  const visitor = await openIdle(url.search);
  assert.equal(await byId(visitor, 'style-select').inputValue(), style.id);
  assert.equal(await byId(visitor, 'seed').inputValue(), '21');
  assert.equal(await byId(visitor, 'motifs').inputValue(), '0.5');
  assert.equal(await byId(visitor, 'shaped').inputValue(), 'pitches');
  assert.equal(await byId(visitor, 'scale').inputValue(), 'dorian');
  assert.equal((await generate(visitor)).status, 'done');
  assert.ok((await download(visitor)).bytes.equals(original), 'the link reproduces the piece');
  await visitor.context().close();
});

test('Hear it learn: an earlier epoch of the same run plays as trainer-cli generates it, and travels in a link', LONG, async (t) => {
  if (!CLI) return t.skip('MOTIF_TRAINER_CLI is not set');
  const style = index.styles.find((s) => JSON.parse(fs.readFileSync(path.join(DIST, 'models', s.path, 'manifest.json'), 'utf8')).snapshots?.length);
  assert.ok(style, 'a shipped style offers earlier epochs');
  const manifest = JSON.parse(fs.readFileSync(path.join(DIST, 'models', style.path, 'manifest.json'), 'utf8'));
  const first = manifest.snapshots[0];
  const page = await openIdle(`?backend=cpu&style=${style.id}`);
  await setInput(page, 'length', 80);
  await setInput(page, 'seed', 5);
  assert.equal((await generate(page)).status, 'done');
  const shipped = (await download(page)).bytes;

  await byId(page, 'epoch').selectOption(String(first.epoch));
  await waitStatus(page, 'idle', 120_000);
  assert.match(await page.locator('.card').textContent(), new RegExp(`${first.epoch} epochs? · held-out loss ${first.validation_loss.toFixed(3)}`));
  assert.equal(await byId(page, 'seed').inputValue(), '5', 'moving between epochs keeps the settings');
  assert.equal((await generate(page)).status, 'done');
  await page.screenshot({ path: path.join(OUT, 'epoch.png') });
  const { name, bytes } = await download(page);
  assert.equal(name, `${style.id}-epoch-${first.epoch}-seed-5.mid`);
  assert.ok(!bytes.equals(shipped), 'an earlier epoch writes different music');
  const cli = cliGenerate({ path: `${style.path}${first.path}` }, { length: 80, seed: 5 });
  assert.ok(bytes.equals(cli), 'the page and trainer-cli generate write the same file for the earlier epoch');

  await byId(page, 'copy-link').click();
  const url = new URL(await byId(page, 'share-link').inputValue());
  assert.equal(url.searchParams.get('epoch'), String(first.epoch));
  await page.context().close();
  url.searchParams.set('backend', 'cpu');
  const visitor = await openIdle(url.search);
  assert.equal(await byId(visitor, 'epoch').inputValue(), String(first.epoch));
  assert.equal((await generate(visitor)).status, 'done');
  assert.ok((await download(visitor)).bytes.equals(bytes), 'the link reproduces the earlier epoch\'s piece');
  await visitor.context().close();
});

test('Variations: four versions of one request to choose from; the kept one downloads, continues and links as trainer-cli --variation writes it', LONG, async (t) => {
  if (!CLI) return t.skip('MOTIF_TRAINER_CLI is not set');
  const style = index.styles[0];
  const page = await openIdle(`?backend=cpu&style=${style.id}`);
  await setInput(page, 'length', 60);
  await setInput(page, 'seed', 9);
  await byId(page, 'variations').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent === 'done', null, { timeout: 300_000 });
  for (const k of [1, 2, 3, 4]) assert.ok(await byId(page, `variation-${k}`).isVisible(), `tab ${k}`);
  assert.equal(await byId(page, 'variation-1').getAttribute('aria-pressed'), 'true');
  assert.equal(await byId(page, 'variation').inputValue(), '1');
  const first = await download(page);
  assert.equal(first.name, `${style.id}-seed-9-variation-1.mid`);
  assert.ok(first.bytes.equals(cliGenerate(style, { length: 60, seed: 9, extra: ['--variation', '1'] })));

  await byId(page, 'variation-3').click();
  assert.equal(await byId(page, 'variation-3').getAttribute('aria-pressed'), 'true');
  await page.screenshot({ path: path.join(OUT, 'variations.png') });
  const third = (await download(page)).bytes;
  assert.ok(!third.equals(first.bytes), 'variations differ');
  assert.ok(third.equals(cliGenerate(style, { length: 60, seed: 9, extra: ['--variation', '3'] })));

  // The kept variation continues from its own state, and its link names it.
  await byId(page, 'continue').click();
  await waitStatus(page, 'done', 300_000);
  assert.ok((await download(page)).bytes.equals(cliGenerate(style, { length: 120, seed: 9, extra: ['--variation', '3'] })),
    'Continue on variation 3 writes what --variation 3 --length 120 writes');
  await byId(page, 'copy-link').click();
  assert.equal(new URL(await byId(page, 'share-link').inputValue()).searchParams.get('variation'), '3');
  assert.equal(await byId(page, 'error').isVisible(), false, await byId(page, 'error').textContent());
  await page.context().close();
});

test('Variations on WebGPU step as one batch, and each is the piece trainer-cli --variation writes', LONG, async (t) => {
  if (!CLI) return t.skip('MOTIF_TRAINER_CLI is not set');
  const style = index.styles[0];
  const page = await openIdle(`?backend=webgpu&style=${style.id}`);
  assert.equal(await byId(page, 'backend').textContent(), 'webgpu');
  await setInput(page, 'length', 12);
  await setInput(page, 'seed', 5);
  await byId(page, 'variations').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent === 'done', null, { timeout: 600_000 });
  assert.equal(await byId(page, 'error').isVisible(), false, await byId(page, 'error').textContent());
  t.diagnostic(`four variations: ${await byId(page, 'timing').textContent()}`);
  for (const k of [1, 2, 3, 4]) {
    await byId(page, `variation-${k}`).click();
    const { name, bytes } = await download(page);
    assert.equal(name, `${style.id}-seed-5-variation-${k}.mid`);
    assert.ok(bytes.equals(cliGenerate(style, { length: 12, seed: 5, extra: ['--variation', String(k)] })), `variation ${k} equals trainer-cli's`);
  }
  await page.context().close();
});

test('Continue extends the piece from where the network stopped: the same as asking for the longer piece', LONG, async (t) => {
  const style = index.styles[0];
  const page = await openIdle(`?backend=cpu&style=${style.id}`);
  await setInput(page, 'length', 150);
  await setInput(page, 'seed', 9);
  assert.equal((await generate(page)).status, 'done');
  const first = readMidi((await download(page)).bytes).notes.length;
  await byId(page, 'continue').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="status"]')?.textContent === 'done');
  const count = Number(await byId(page, 'note-count').textContent());
  assert.ok(count >= 300 && count < 300 + 16, `${count} notes after Continue`);
  const { bytes } = await download(page);
  const longer = readMidi(bytes).notes;
  assert.ok(longer.length > first, `${longer.length} notes in the file, ${first} before`);
  if (CLI) {
    assert.ok(bytes.equals(cliGenerate(style, { length: 300, seed: 9 })), 'equals trainer-cli generate --length 300');
  } else t.diagnostic('MOTIF_TRAINER_CLI unset: not compared with trainer-cli');
  await page.context().close();
});

test('on a 390 px phone screen nothing is wider than the screen, and a piece generates', LONG, async () => {
  const page = await openPage(browser, `${server.origin}/?backend=cpu`, { requests, errors, viewport: { width: 390, height: 844 } });
  await waitStatus(page, 'idle', 180_000);
  await setInput(page, 'length', 48);
  assert.equal((await generate(page)).status, 'done');
  const width = await page.evaluate(() => document.documentElement.scrollWidth);
  assert.ok(width <= 390, `the page is ${width} px wide`);
  const roll = await byId(page, 'piano-roll').boundingBox();
  assert.ok(roll.x >= 0 && roll.x + roll.width <= 390, `the roll spans ${roll.x}..${roll.x + roll.width}`);
  await page.screenshot({ path: path.join(OUT, 'phone.png'), fullPage: true });
  await page.context().close();
});

test('Play can start while the piece is still being generated, and keeps playing as it grows', LONG, async () => {
  const style = index.styles[0];
  const page = await openIdle(`?backend=cpu&style=${style.id}`);
  await setInput(page, 'length', 5000);
  await byId(page, 'generate').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="note-count"]').textContent) > 0);
  await byId(page, 'play').click();
  const statusAtPlay = await byId(page, 'status').textContent();
  assert.equal(await byId(page, 'play').textContent(), 'Stop playing');
  await waitStatus(page, 'done', 300_000);
  assert.equal(statusAtPlay, 'generating', 'Play was pressed during generation');
  assert.equal(await byId(page, 'play').textContent(), 'Stop playing', 'still playing once the piece is complete');
  assert.equal(await byId(page, 'error').isVisible(), false, await byId(page, 'error').textContent());
  await page.context().close();
});

test('Play sounds the sampled piano, fetched only then; Download audio renders the piece to a WAV of its length', LONG, async () => {
  const style = index.styles[0];
  const first = requests.length;
  const page = await openIdle(`?backend=cpu&style=${style.id}`);
  await setInput(page, 'length', 120);
  assert.equal((await generate(page)).status, 'done');
  const fetched = () => requests.slice(first).filter((u) => u.includes('/piano/'));
  assert.deepEqual(fetched(), [], 'no piano samples are fetched before Play');
  await byId(page, 'play').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="voice"]').textContent.includes('samples'), null, { timeout: 60_000 });
  assert.ok(fetched().some((u) => u.endsWith('/piano/piano.ogg')), fetched().join(' '));
  await byId(page, 'play').click();

  const midi = readMidi((await download(page)).bytes);
  const { name, bytes } = await download(page, 'download-wav');
  assert.match(name, /\.wav$/);
  fs.writeFileSync(path.join(OUT, name), bytes);
  assert.equal(bytes.toString('ascii', 0, 4), 'RIFF');
  assert.equal(bytes.toString('ascii', 8, 16), 'WAVEfmt ');
  assert.equal(bytes.readUInt16LE(20), 1, 'PCM');
  assert.equal(bytes.readUInt16LE(22), 1, 'mono');
  const rate = bytes.readUInt32LE(24);
  assert.equal(rate, 44100);
  assert.equal(bytes.readUInt16LE(34), 16, '16-bit');
  assert.equal(bytes.toString('ascii', 36, 40), 'data');
  const samples = new Int16Array(bytes.buffer.slice(bytes.byteOffset + 44, bytes.byteOffset + 44 + bytes.readUInt32LE(40)));
  // As long as the piece (its MIDI file's last note-off) plus the 0.05 s lead and 2 s ring-out.
  const secondsPerTick = (midi.tempo ?? 500000) / 1e6 / midi.division;
  const pieceSeconds = Math.max(...midi.notes.map((n) => n.end)) * secondsPerTick;
  assert.ok(Math.abs(samples.length / rate - (pieceSeconds + 2.05)) < 0.05, `${samples.length / rate} s for a ${pieceSeconds} s piece`);
  // Sound where the notes are, silence before the first one starts.
  const rms = (from, to) => {
    let sum = 0;
    for (let i = Math.floor(from * rate); i < Math.floor(to * rate); i++) sum += (samples[i] / 32768) ** 2;
    return Math.sqrt(sum / Math.max(1, Math.floor(to * rate) - Math.floor(from * rate)));
  };
  const onset = Math.min(...midi.notes.map((n) => n.start)) * secondsPerTick + 0.05;
  assert.ok(rms(0, Math.max(0.001, onset - 0.005)) < 1e-4, 'silent before the first note');
  assert.ok(rms(onset, onset + pieceSeconds) > 0.01, `audible: rms ${rms(onset, onset + pieceSeconds)}`);
  assert.equal(await byId(page, 'error').isVisible(), false, await byId(page, 'error').textContent());
  await page.context().close();
});

test('if the piano samples cannot be loaded, Play says so and plays the synthesized voice', LONG, async () => {
  const style = index.styles[0];
  const page = await openIdle(`?backend=cpu&style=${style.id}`, (context) =>
    context.route('**/piano/piano.ogg', (route) => route.fulfill({ status: 404, body: 'gone' })));
  await setInput(page, 'length', 24);
  assert.equal((await generate(page)).status, 'done');
  await byId(page, 'play').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="voice"]').textContent !== '', null, { timeout: 30_000 });
  assert.equal(await byId(page, 'voice').textContent(), 'synthesized piano');
  assert.match(await byId(page, 'error').textContent(), /piano samples could not be loaded .*piano\.ogg: HTTP 404/);
  assert.equal(await byId(page, 'play').textContent(), 'Stop playing');
  await page.context().close();
});

test('the roll zooms, scrolls and seeks, by mouse and by keyboard; Enter in a setting generates', LONG, async () => {
  const style = index.styles[0];
  const page = await openIdle(`?backend=cpu&style=${style.id}`);
  await setInput(page, 'length', 300);
  await byId(page, 'length').press('Enter');
  await waitStatus(page, 'done', 300_000);
  assert.ok(Number(await byId(page, 'note-count').textContent()) >= 300, 'Enter in Length generated the piece');
  const roll = byId(page, 'piano-roll');
  const attr = async (name) => Number(await roll.getAttribute(`data-${name}`));
  // The roll draws at the next animation frame: its view's attributes follow within one.
  const view = async (name, ok, what) => {
    const deadline = Date.now() + 5_000;
    let value = await attr(name);
    while (!ok(value) && Date.now() < deadline) {
      await page.waitForTimeout(20);
      value = await attr(name);
    }
    assert.ok(ok(value), `${what} (${name} ${value})`);
    return value;
  };

  const zoom = await attr('pixels-per-beat');
  await byId(page, 'zoom-in').click();
  await view('pixels-per-beat', (v) => v > zoom, 'zoomed in');
  await roll.focus();
  await page.keyboard.press('-');
  await view('pixels-per-beat', (v) => v === zoom, '− zooms back out');

  // The view followed the end of the piece; Home, the wheel and the arrows move it.
  await view('first-beat', (v) => v > 0, 'a long piece scrolls to its end');
  await page.keyboard.press('Home');
  await view('first-beat', (v) => v === 0, 'Home scrolls to the start');
  await roll.hover();
  await page.mouse.wheel(0, 480);
  const wheeled = await view('first-beat', (v) => v > 0, 'the wheel scrolls');
  assert.ok(Math.abs(wheeled - 480 / zoom) < 1e-6, `the wheel scrolled ${wheeled} beats`);
  await page.keyboard.press('ArrowRight');
  await view('first-beat', (v) => v > wheeled, 'ArrowRight scrolls on');
  await byId(page, 'follow').click();
  assert.ok(await byId(page, 'follow').isDisabled(), 'following again');

  // A click moves the playback cursor; Play starts there.
  await roll.focus();
  await page.keyboard.press('Home');
  await view('first-beat', (v) => v === 0, 'Home scrolls to the start');
  const box = await roll.boundingBox();
  const beat = 6;
  await roll.click({ position: { x: 28 + beat * zoom, y: box.height / 2 } });
  assert.ok(Math.abs(await attr('play-from') - beat) < 0.05, `play from ${await attr('play-from')}`);
  await byId(page, 'play').click();
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="piano-roll"]').dataset.cursor) > 6.2, null, { timeout: 10_000 });
  assert.ok(await attr('cursor') < beat + 8, 'playback started at the clicked beat, not the beginning');
  // While playing, a click jumps there.
  await roll.click({ position: { x: 28 + 2 * zoom, y: box.height / 2 } });
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="piano-roll"]').dataset.cursor) < 4, null, { timeout: 5_000 });
  assert.equal(await byId(page, 'error').isVisible(), false, await byId(page, 'error').textContent());
  await page.context().close();
});

test('play and Space toggle playback with a moving cursor, the notes handed to Web Audio as the clock reaches them', LONG, async () => {
  const style = index.styles[0];
  const page = await openIdle(`?backend=cpu&style=${style.id}`);
  await setInput(page, 'length', 300);
  assert.equal((await generate(page)).status, 'done');
  const handed = async () => Number(await byId(page, 'voice').getAttribute('data-handed'));
  await byId(page, 'play').click();
  assert.equal(await byId(page, 'play').textContent(), 'Stop playing');
  // Play schedules the next two seconds, not all 300 notes in one task; the rest follow.
  await page.waitForFunction(() => Number(document.querySelector('[data-testid="voice"]').dataset.handed) > 0);
  const atStart = await handed();
  assert.ok(atStart < 200, `${atStart} notes handed at Play`);
  await page.waitForTimeout(3000);
  assert.ok(await handed() > atStart, `more notes handed as it plays (${atStart} → ${await handed()})`);
  await page.screenshot({ path: path.join(OUT, 'playing.png'), fullPage: true });
  await page.locator('h1').click();
  await page.keyboard.press('Space');
  assert.equal(await byId(page, 'play').textContent(), 'Play');
  await page.keyboard.press('Space');
  assert.equal(await byId(page, 'play').textContent(), 'Stop playing');
  assert.equal(await byId(page, 'error').isVisible(), false, await byId(page, 'error').textContent());
  await page.context().close();
});

test('a corrupt or missing bundle shows its error and the other styles keep working', LONG, async () => {
  assert.ok(index.styles.length >= 2, 'needs two styles');
  const [bad, good] = index.styles;
  const missing = index.styles[2] ?? good;
  const page = await open(`?backend=cpu&style=${bad.id}`, async (context) => {
    await context.route(`**/models/${bad.path}/weights.bpk`, async (route) => {
      const response = await route.fetch();
      const body = await response.body();
      body[body.length >> 1] ^= 0xff;
      await route.fulfill({ response, body });
    });
    if (missing !== good) {
      await context.route(`**/models/${missing.path}/manifest.json`, (route) => route.fulfill({ status: 404, body: 'gone' }));
    }
  });
  await waitStatus(page, 'error', 180_000);
  assert.ok(await byId(page, 'error').isVisible());
  assert.match(await byId(page, 'error').textContent(), /checksum/);
  await page.screenshot({ path: path.join(OUT, 'corrupt.png'), fullPage: true });
  if (missing !== good) {
    await byId(page, 'style-select').selectOption(missing.id);
    await waitStatus(page, 'error');
    assert.match(await byId(page, 'error').textContent(), /404/);
  }
  await byId(page, 'style-select').selectOption(good.id);
  await waitStatus(page, 'idle', 180_000);
  assert.equal(await byId(page, 'error').isVisible(), false);
  await setInput(page, 'length', 16);
  const { status, final } = await generate(page);
  assert.equal(status, 'done');
  assert.ok(final >= 16, `${final} notes`);
  await page.context().close();
});

test('no request left the origin and nothing panicked', () => {
  assert.ok(requests.length > 0);
  const outside = requests.filter((url) => !url.startsWith(server.origin) && !/^(data|blob):/.test(url));
  assert.deepEqual(outside, []);
  assert.deepEqual(errors, []);
});
