//! Finding and loading MIDI files from the paths a user gives.

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{LoadError, MidiError};
use crate::midi::{MAX_FILE_BYTES, ReadOptions, read_midi};
use crate::score::Score;

/// File extensions treated as MIDI when walking a folder (compared case-insensitively).
pub const MIDI_EXTENSIONS: [&str; 5] = ["mid", "midi", "smf", "kar", "rmi"];

pub fn is_midi_path(path: &Path) -> bool {
    path.extension()
        .and_then(|ext| ext.to_str())
        .is_some_and(|ext| MIDI_EXTENSIONS.iter().any(|m| m.eq_ignore_ascii_case(ext)))
}

/// Expands files and folders (recursively) into MIDI files, sorted within each folder so every
/// run sees the same order. A file named explicitly is taken whatever its extension.
pub fn find_midi_files(paths: &[PathBuf]) -> Result<Vec<PathBuf>, LoadError> {
    let mut found = Vec::new();
    for path in paths {
        let error = |e: std::io::Error| LoadError {
            path: path.clone(),
            reason: MidiError::Io(e),
        };
        if fs::metadata(path).map_err(error)?.is_dir() {
            walk(path, &mut found)?;
        } else {
            found.push(path.clone());
        }
    }
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), LoadError> {
    let error = |e: std::io::Error| LoadError {
        path: dir.to_owned(),
        reason: MidiError::Io(e),
    };
    let mut entries = fs::read_dir(dir)
        .map_err(error)?
        .map(|entry| entry.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(error)?;
    entries.sort();
    for path in entries {
        // symlink_metadata: never follow a link back up the tree.
        let Ok(meta) = fs::symlink_metadata(&path) else {
            continue;
        };
        if meta.is_dir() {
            walk(&path, found)?;
        } else if is_midi_path(&path) && fs::metadata(&path).is_ok_and(|m| m.is_file()) {
            found.push(path);
        }
    }
    Ok(())
}

/// Reads and parses one file; the size is checked before anything is read.
pub fn load_file(path: &Path, options: &ReadOptions) -> Result<Score, LoadError> {
    parse_file(path, &read_file(path)?, options)
}

/// A file's bytes, for callers that also need them (to fingerprint a corpus); the size is
/// checked before anything is read.
pub fn read_file(path: &Path) -> Result<Vec<u8>, LoadError> {
    let fail = |reason: MidiError| LoadError {
        path: path.to_owned(),
        reason,
    };
    let size = fs::metadata(path).map_err(|e| fail(e.into()))?.len();
    if size > MAX_FILE_BYTES {
        return Err(fail(MidiError::TooLarge {
            size,
            limit: MAX_FILE_BYTES,
        }));
    }
    fs::read(path).map_err(|e| fail(e.into()))
}

/// Parses the bytes [`read_file`] read from `path`; errors name the file.
pub fn parse_file(path: &Path, bytes: &[u8], options: &ReadOptions) -> Result<Score, LoadError> {
    read_midi(bytes, options).map_err(|reason| LoadError {
        path: path.to_owned(),
        reason,
    })
}
