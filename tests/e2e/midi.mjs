// A small Standard MIDI File reader and writer, independent of the Rust code under test, so the
// end-to-end tests check the page's downloads with a second implementation.

export function readMidi(bytes) {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = (at) => String.fromCharCode(...bytes.subarray(at, at + 4));
  if (text(0) !== 'MThd') throw new Error('no MThd header');
  const format = view.getUint16(8);
  const trackCount = view.getUint16(10);
  const division = view.getUint16(12);
  let at = 8 + view.getUint32(4);
  const notes = [];
  let tempo = null;
  for (let t = 0; t < trackCount; t++) {
    if (text(at) !== 'MTrk') throw new Error(`track ${t}: no MTrk`);
    const end = at + 8 + view.getUint32(at + 4);
    at += 8;
    let tick = 0;
    let status = 0;
    const open = new Map();
    const varLen = () => {
      let value = 0;
      for (;;) {
        const b = bytes[at++];
        value = (value << 7) | (b & 0x7f);
        if (!(b & 0x80)) return value;
      }
    };
    while (at < end) {
      tick += varLen();
      let b = bytes[at];
      if (b & 0x80) { status = b; at++; } // else running status
      if (status === 0xff) {
        const type = bytes[at++];
        const len = varLen();
        if (type === 0x51) tempo = (bytes[at] << 16) | (bytes[at + 1] << 8) | bytes[at + 2];
        at += len;
      } else if (status === 0xf0 || status === 0xf7) {
        at += varLen();
      } else {
        const kind = status & 0xf0;
        const a = bytes[at++];
        const b2 = kind === 0xc0 || kind === 0xd0 ? 0 : bytes[at++];
        if (kind === 0x90 && b2 > 0) {
          open.set(a, { start: tick, pitch: a, velocity: b2 });
        } else if (kind === 0x80 || (kind === 0x90 && b2 === 0)) {
          const note = open.get(a);
          if (note) { notes.push({ ...note, end: tick }); open.delete(a); }
        }
      }
    }
    if (open.size) throw new Error(`track ${t}: ${open.size} notes never end`);
    at = end;
  }
  notes.sort((x, y) => x.start - y.start || x.pitch - y.pitch);
  return { format, trackCount, division, tempo, notes };
}

/// A format-0 file with one note per beat (pitches given), PPQ 480.
export function writeMidi(pitches) {
  const events = [];
  const varLen = (v) => {
    const out = [v & 0x7f];
    while ((v >>= 7)) out.unshift((v & 0x7f) | 0x80);
    return out;
  };
  for (const pitch of pitches) {
    events.push(...varLen(0), 0x90, pitch, 80, ...varLen(480), 0x80, pitch, 0);
  }
  events.push(0, 0xff, 0x2f, 0);
  const header = [0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 0, 0, 1, 0x01, 0xe0];
  const len = events.length;
  const track = [0x4d, 0x54, 0x72, 0x6b, (len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff];
  return Buffer.from([...header, ...track, ...events]);
}
