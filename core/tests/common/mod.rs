//! Builds MIDI bytes by hand, so each test states exactly what is in the file.
#![allow(dead_code)]

mod corpora;
#[allow(unused_imports)] // not every test file looks for the corpora
pub use corpora::corpora_dir;

/// MIDI variable-length quantity.
pub fn vlq(mut value: u32) -> Vec<u8> {
    let mut bytes = vec![(value & 0x7f) as u8];
    value >>= 7;
    while value > 0 {
        bytes.insert(0, 0x80 | (value & 0x7f) as u8);
        value >>= 7;
    }
    bytes
}

/// Track-event bytes from (delta, raw event bytes) pairs; raw bytes may omit the status byte to
/// use running status.
pub fn events(list: &[(u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (delta, raw) in list {
        out.extend(vlq(*delta));
        out.extend_from_slice(raw);
    }
    out
}

pub const END_OF_TRACK: &[u8] = &[0xff, 0x2f, 0x00];

pub fn tempo(us_per_beat: u32) -> Vec<u8> {
    let b = us_per_beat.to_be_bytes();
    vec![0xff, 0x51, 0x03, b[1], b[2], b[3]]
}

pub fn chunk(id: &[u8; 4], body: &[u8]) -> Vec<u8> {
    let mut out = id.to_vec();
    out.extend((body.len() as u32).to_be_bytes());
    out.extend_from_slice(body);
    out
}

/// A whole file: header with `format` and raw `division`, then one MTrk per body.
pub fn smf(format: u16, division: u16, tracks: &[Vec<u8>]) -> Vec<u8> {
    let mut header = Vec::new();
    header.extend(format.to_be_bytes());
    header.extend((tracks.len() as u16).to_be_bytes());
    header.extend(division.to_be_bytes());
    let mut out = chunk(b"MThd", &header);
    for body in tracks {
        out.extend(chunk(b"MTrk", body));
    }
    out
}

pub fn note_on(channel: u8, key: u8, vel: u8) -> [u8; 3] {
    [0x90 | channel, key, vel]
}

pub fn note_off(channel: u8, key: u8) -> [u8; 3] {
    [0x80 | channel, key, 0x40]
}
