//! `trainer-cli inspect` as a user runs it, on folders of MIDI files written here.

mod common;

use std::path::Path;
use std::process::Output;

use common::{TempDir, tempdir, text, trainer};

use motif::Note;
use motif::midi::{WriteOptions, write_midi};

fn inspect(args: &[&str]) -> Output {
    trainer(&[&["inspect"], args].concat())
}

fn write_piece(path: &Path, pitches: &[u8]) {
    let notes: Vec<Note> = pitches
        .iter()
        .enumerate()
        .map(|(i, &pitch)| Note {
            start: i as f64 * 0.5,
            duration: 0.5,
            pitch,
            velocity: 90,
        })
        .collect();
    std::fs::write(path, write_midi(&notes, &WriteOptions::default())).unwrap();
}

/// good.mid, sub/nested.MIDI, truncated.mid (damaged but readable), corrupt.mid, notes.txt.
fn mixed_folder() -> TempDir {
    let dir = tempdir();
    write_piece(&dir.path().join("good.mid"), &[60, 62, 64, 65, 67]);
    std::fs::create_dir(dir.path().join("sub")).unwrap();
    write_piece(&dir.path().join("sub/nested.MIDI"), &[48, 52, 55]);
    let whole = std::fs::read(dir.path().join("good.mid")).unwrap();
    std::fs::write(dir.path().join("truncated.mid"), &whole[..whole.len() - 12]).unwrap();
    std::fs::write(
        dir.path().join("corrupt.mid"),
        b"MThd\x00\x00\x00\x06garbage",
    )
    .unwrap();
    std::fs::write(dir.path().join("notes.txt"), b"not music").unwrap();
    dir
}

#[test]
fn reports_each_file_and_rejects_bad_ones_with_one_line_each() {
    let dir = mixed_folder();
    let out = inspect(&[dir.path().to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "a rejected file makes the exit status 1"
    );
    let stderr = text(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("corrupt.mid: not a valid MIDI file"),
        "{stderr}"
    );

    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("good.mid: format 0 | 1 tracks | ppq 480 | 1 tempo changes | 5 notes"),
        "{stdout}"
    );
    assert!(
        stdout.contains("nested.MIDI"),
        "folders are searched recursively: {stdout}"
    );
    assert!(
        stdout.contains("truncated.mid") && stdout.contains("damaged track"),
        "{stdout}"
    );
    assert!(!stdout.contains("notes.txt"));
    assert!(stdout.contains("3 files read, 1 rejected"), "{stdout}");
    assert!(
        stdout.contains("timed:") && stdout.contains("seed:"),
        "{stdout}"
    );
}

#[test]
fn json_lines_carry_the_same_facts() {
    let dir = mixed_folder();
    let out = inspect(&["--json", dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let values: Vec<serde_json::Value> = text(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(values.len(), 4);
    let good = values
        .iter()
        .find(|v| v["path"].as_str().is_some_and(|p| p.ends_with("good.mid")))
        .unwrap();
    assert_eq!(good["notes"], 5);
    assert_eq!(good["timing"]["ticks_per_beat"], 480);
    assert_eq!(good["tokens"]["seed"], 5);
    // 5 notes, each a pitch and a duration, with 4 shifts between them, and one loudness.
    assert_eq!(good["tokens"]["timed"], 15);
    let summary = &values[3]["summary"];
    assert_eq!(summary["files_ok"], 3);
    assert_eq!(summary["files_rejected"], 1);
    assert!(
        summary["tokenizers"]["timed"]["vocabulary"]
            .as_u64()
            .unwrap()
            > 1
    );
}

#[test]
fn clean_folder_exits_zero_and_missing_path_is_a_clear_error() {
    let dir = tempdir();
    write_piece(&dir.path().join("a.mid"), &[60, 64, 67]);
    let out = inspect(&[dir.path().to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    let missing = dir.path().join("nowhere");
    let out = inspect(&[missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("nowhere") && stderr.contains("No such file"),
        "{stderr}"
    );
}

#[test]
fn bench_prints_throughput() {
    let dir = tempdir();
    write_piece(&dir.path().join("a.mid"), &[60, 64, 67, 72]);
    let out = inspect(&[
        "--bench",
        "--bench-seconds",
        "0.05",
        dir.path().to_str().unwrap(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("files/s") && stdout.contains("MB/s") && stdout.contains("music21"),
        "{stdout}"
    );
}
