//! Training, resuming (also after kill -9), exporting and generating, as a user runs them, on a
//! few real pieces from the shared corpus.

mod common;

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use motif::midi::{ReadOptions, read_midi};

/// Starts a training run in the background and returns once its first checkpoint is committed.
fn spawn_until_first_checkpoint(data: &Path, run: &Path, epochs: &str) -> Child {
    let mut args = vec![
        "train",
        "--data",
        path(data),
        "--style",
        "s",
        "--out",
        path(run),
        "--epochs",
        epochs,
        // Never stop early: the run must still be going when the test interrupts it.
        "--patience",
        "0",
    ];
    args.extend_from_slice(TINY);
    let child = trainer_command()
        .args(&args)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(300);
    while !run.join("progress.json").exists() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(5));
    }
    child
}

#[test]
fn train_resume_export_generate() {
    let Some(data) = small_corpus() else { return };
    let work = tempdir();
    let (run, straight) = (work.path().join("run"), work.path().join("straight"));

    // Two epochs, then resume to three; the same as three in one go.
    let out = train(data.path(), &run, &["--epochs", "2"]);
    ok(&out);
    let stderr = text(&out.stderr);
    assert!(stderr.contains("backend: cpu"), "{stderr}");
    assert!(stderr.contains("epoch 2/2: train loss"), "{stderr}");
    assert!(run.join("checkpoints/epoch-0002/model.bpk").exists());
    assert!(run.join("loss.svg").exists());
    assert_eq!(losses(&run).len(), 2);
    ok(&trainer(&[
        "train",
        "--data",
        path(data.path()),
        "--style",
        "x",
        "--out",
        path(&run),
        "--resume",
        "--epochs",
        "3",
    ]));
    ok(&train(data.path(), &straight, &["--epochs", "3"]));
    assert_eq!(
        losses(&run),
        losses(&straight),
        "resumed run differs from an uninterrupted one"
    );

    // Starting over an existing run is refused rather than silently overwriting it.
    let again = train(data.path(), &run, &["--epochs", "1"]);
    assert!(!again.status.success());
    assert_stderr_has(&again, "--resume");

    // Export the best epoch as a bundle and generate from it.
    let models = work.path().join("models");
    let bundle = models.join("test-style");
    ok(&trainer(&[
        "export",
        "--run",
        path(&run),
        "--out",
        path(&bundle),
        "--description",
        "A test.",
    ]));
    let read_manifest = || -> serde_json::Value {
        serde_json::from_str(&std::fs::read_to_string(bundle.join("manifest.json")).unwrap())
            .unwrap()
    };
    let manifest = read_manifest();
    assert_eq!(manifest["schema_version"], 1);
    assert_eq!(manifest["tokenizer"]["kind"], "timed");
    assert_eq!(manifest["weights"]["dtype"], "f16");
    assert!(manifest["vocabulary"]["tokens"].as_array().unwrap().len() > 20);
    assert!(!manifest["primes"].as_array().unwrap().is_empty());
    // Metric positions are on by default, and each opening says where in its bar it starts.
    assert_eq!(manifest["model"]["meter_steps_per_beat"], 12);
    assert_eq!(manifest["primes"][0]["time_signature"]["denominator"], 4);
    assert!(manifest["sampling"].is_null(), "not tuned yet");
    let index: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(models.join("index.json")).unwrap()).unwrap();
    assert_eq!(index["styles"][0]["id"], "test-style");
    assert_eq!(index["styles"][0]["path"], "test-style/");

    // 60 notes, with any `extra` flags.
    let generate = |out: &str, seed: &str, extra: &[&str]| {
        let file = work.path().join(out);
        let mut args = vec![
            "generate",
            "--model",
            path(&bundle),
            "--length",
            "60",
            "--seed",
            seed,
            "--out",
            path(&file),
        ];
        args.extend_from_slice(extra);
        let stdout = ok(&trainer(&args));
        (std::fs::read(&file).unwrap(), stdout)
    };
    let (first, stdout) = generate("a.mid", "3", &[]);
    assert!(stdout.contains("notes/s"), "{stdout}");
    let (second, _) = generate("b.mid", "3", &[]);
    let (other, _) = generate("c.mid", "4", &[]);
    assert_eq!(
        first, second,
        "same seed and settings must give the same file"
    );
    assert_ne!(first, other);
    let score = read_midi(&first, &ReadOptions::default()).expect("generated file parses");
    assert!(score.notes.len() >= 60, "{} notes", score.notes.len());

    // Per-token timing of the bundle's generation (the CPU engine has no read-back to chunk).
    let timing = ok(&trainer(&[
        "bench-decode",
        "--backend",
        "cpu",
        "--tokens",
        "64",
        "--model",
        path(&bundle),
    ]));
    assert!(
        timing.contains("test-style: ") && timing.contains("engine") && timing.contains("ms/token"),
        "{timing}"
    );

    // Held-out loss and the pieces' statistics next to the corpus's.
    let eval_args = [
        "eval",
        "--model",
        path(&bundle),
        "--data",
        path(data.path()),
        "--pieces",
        "4",
        "--length",
        "40",
        // The same corpus as a rival: its distance is printed beside the own one, and equal.
        "--rival",
        path(data.path()),
    ];
    let eval = ok(&trainer(&eval_args));
    assert!(
        eval.contains("the model's held-out files") && eval.contains("perplexity"),
        "{eval}"
    );
    // Pieces are generated on every core at once; the figures must not depend on which
    // finishes first.
    assert_eq!(eval, ok(&trainer(&eval_args)));
    let distance_after = |label: &str| -> f64 {
        let line = eval
            .lines()
            .find(|l| l.starts_with(label))
            .unwrap_or_else(|| panic!("{label}: {eval}"));
        line[label.len()..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        distance_after("pitch-class distance, rival"),
        distance_after("pitch-class distance "),
        "{eval}"
    );
    assert!(
        eval.contains("note length, per note") && eval.contains("onset gap, per onset"),
        "{eval}"
    );
    // Held-out figures alone: no column of means over zero pieces.
    let eval_with = |flags: &[&str]| {
        let model = [
            "eval",
            "--model",
            path(&bundle),
            "--data",
            path(data.path()),
        ];
        ok(&trainer(&[model.as_slice(), flags].concat()))
    };
    let held_out_only = eval_with(&["--pieces", "0"]);
    assert!(
        held_out_only.contains("nats per note")
            && held_out_only.contains("no pieces generated")
            && !held_out_only.contains("NaN")
            && !held_out_only.contains("generated pieces of"),
        "{held_out_only}"
    );
    assert!(
        eval.contains("distinct 4-grams") && eval.contains("pitch-class distance"),
        "{eval}"
    );
    assert!(
        eval.contains("loss per token kind (nats, share of targets): pitch ")
            && eval.contains("nats per note (pitch + timing tokens over ")
            && eval.contains(
                "with the state carried through each piece (as generation runs): per-token loss "
            ),
        "{eval}"
    );
    assert!(
        eval.contains("pace memory: nats per note without it ")
            && eval.contains("each predicted from the true past: the network expects "),
        "{eval}"
    );

    // `tune` measures candidate settings against the corpus and stores the chosen ones, which
    // `generate` then starts from (flags still override them).
    let tune = ok(&trainer(&[
        "tune",
        "--model",
        path(&bundle),
        "--data",
        path(data.path()),
        "--pieces",
        "2",
        "--length",
        "30",
        // The same corpus as a rival: never strictly nearer, so it rules nothing out, but its
        // distances are printed.
        "--rival",
        path(data.path()),
        "--confirm",
        "3",
    ]));
    assert!(tune.contains("chosen: temperature"), "{tune}");
    assert!(tune.contains("the best 5 again over 3 pieces:"), "{tune}");
    assert!(tune.contains(" pc  rival |"), "{tune}");
    let manifest = read_manifest();
    let chosen = &manifest["sampling"];
    let temperature = chosen["temperature"].as_f64().unwrap();
    assert!((0.5..=1.0).contains(&temperature), "{chosen}");
    // The pace memory's weight is the one that predicts the held-out files best, as printed.
    let pace: f64 = tune
        .lines()
        .find_map(|l| l.strip_prefix("pace memory: weight "))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("{tune}"))
        .parse()
        .unwrap();
    assert!(
        (chosen["pace_memory"].as_f64().unwrap() - pace).abs() < 1e-6,
        "{chosen}"
    );
    let (tuned, _) = generate("tuned.mid", "3", &[]);
    let (temperature, top_k, top_p) = (
        format!("{temperature}"),
        chosen["top_k"].to_string(),
        format!("{}", chosen["top_p"].as_f64().unwrap()),
    );
    // `tune` tries shaping the pitches only as well, and records which it chose.
    let shaped = if chosen["pitches_only"].as_bool().unwrap() {
        "pitches"
    } else {
        "all"
    };
    let (explicit, _) = generate(
        "explicit.mid",
        "3",
        &[
            "--temperature",
            &temperature,
            "--top-k",
            &top_k,
            "--top-p",
            &top_p,
            "--shaped",
            shaped,
        ],
    );
    assert_eq!(tuned, explicit);
    // `tune` also stores the velocity each loudness bucket plays at, the corpus's mean in it,
    // and generated notes sound at those velocities.
    assert!(
        tune.contains("velocity each loudness bucket plays at"),
        "{tune}"
    );
    let levels: Vec<u8> = manifest["tokenizer"]["velocity_levels"]
        .as_array()
        .unwrap_or_else(|| panic!("{manifest}"))
        .iter()
        .map(|v| v.as_u64().unwrap() as u8)
        .collect();
    assert_eq!(levels.len(), 4, "{manifest}");
    let played = read_midi(&tuned, &ReadOptions::default()).unwrap();
    assert!(
        played.notes.iter().all(|n| levels.contains(&n.velocity)),
        "{levels:?}"
    );
    // `--loudness-only` measures them again and leaves the sampling as it was.
    let again = ok(&trainer(&[
        "tune",
        "--model",
        path(&bundle),
        "--data",
        path(data.path()),
        "--loudness-only",
    ]));
    assert!(!again.contains("chosen:"), "{again}");
    assert_eq!(read_manifest(), manifest);

    // A key and scale keep every generated pitch in it (no prime: every note is generated),
    // and `eval` reports the share.
    let (dorian, _) = generate(
        "dorian.mid",
        "3",
        &["--prime", "none", "--key", "D", "--scale", "dorian"],
    );
    let dorian = read_midi(&dorian, &ReadOptions::default()).unwrap();
    assert!(!dorian.notes.is_empty());
    let outside: Vec<u8> = dorian
        .notes
        .iter()
        .map(|n| n.pitch)
        .filter(|p| ![0, 2, 4, 5, 7, 9, 11].contains(&(p % 12))) // D dorian: the white keys
        .collect();
    assert!(outside.is_empty(), "outside D dorian: {outside:?}");
    let scaled = eval_with(&[
        "--pieces", "1", "--length", "30", "--key", "D", "--scale", "dorian",
    ]);
    assert!(scaled.contains("constrained to D dorian"), "{scaled}");

    // A specific epoch's checkpoint exports too.
    let early = models.join("early");
    ok(&trainer(&[
        "export",
        "--checkpoint",
        path(&run.join("checkpoints/epoch-0001")),
        "--out",
        path(&early),
        "--style",
        "early",
    ]));
    let index = std::fs::read_to_string(models.join("index.json")).unwrap();
    assert!(
        index.contains("\"early\"") && index.contains("\"test-style\""),
        "{index}"
    );

    // An earlier epoch as a snapshot of the bundle ("hear it learn"), listed in its manifest;
    // exporting a new bundle over it removes the snapshot rather than shipping it unlisted.
    ok(&trainer(&[
        "export",
        "--run",
        path(&run),
        "--epoch",
        "1",
        "--snapshot-of",
        path(&early),
        "--dtype",
        "int8",
    ]));
    let listed = |bundle: &Path| -> usize {
        let text = std::fs::read_to_string(bundle.join("manifest.json")).unwrap();
        let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
        manifest["snapshots"].as_array().map_or(0, Vec::len)
    };
    assert!(early.join("epoch-1/weights.bpk").exists());
    assert_eq!(listed(&early), 1);
    // Tuning the bundle gives its earlier epochs the same sampling: the page keeps its settings
    // between epochs, and `generate` on a snapshot must start from them too.
    let sampling_of = |manifest: &Path| -> serde_json::Value {
        let text = std::fs::read_to_string(manifest).unwrap();
        serde_json::from_str::<serde_json::Value>(&text).unwrap()["sampling"].clone()
    };
    ok(&trainer(&[
        "tune",
        "--model",
        path(&early),
        "--data",
        path(data.path()),
        "--pieces",
        "2",
        "--length",
        "20",
        // A fixed pace memory instead of the held-out best: stored as asked.
        "--pace-memory",
        "0.5",
    ]));
    let tuned = sampling_of(&early.join("manifest.json"));
    assert!(tuned.is_object(), "{tuned}");
    assert!(
        (tuned["pace_memory"].as_f64().unwrap() - 0.5).abs() < 1e-6,
        "{tuned}"
    );
    assert_eq!(sampling_of(&early.join("epoch-1/manifest.json")), tuned);
    let refused = trainer(&[
        "tune",
        "--model",
        path(&early),
        "--data",
        path(data.path()),
        "--pace-memory",
        "0.95",
    ]);
    let said = String::from_utf8_lossy(&refused.stderr);
    assert!(
        !refused.status.success() && said.contains("a number from 0 to 0.9"),
        "{said}"
    );
    assert_eq!(sampling_of(&early.join("manifest.json")), tuned);
    ok(&trainer(&[
        "export",
        "--run",
        path(&run),
        "--out",
        path(&early),
        "--style",
        "early",
    ]));
    assert!(!early.join("epoch-1").exists(), "the old snapshot is gone");
    assert_eq!(listed(&early), 0);

    // Weight averaging: the mean of epochs 2 and 3, scored afresh on the held-out pieces.
    let averaged = work.path().join("averaged");
    let export_averaged = |epoch: &str, count: &str| {
        trainer(&[
            "export",
            "--run",
            path(&run),
            "--epoch",
            epoch,
            "--average",
            count,
            "--out",
            path(&averaged),
        ])
    };
    ok(&export_averaged("3", "2"));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(averaged.join("manifest.json")).unwrap())
            .unwrap();
    assert_eq!(manifest["training"]["averaged_epochs"], 2);
    let averaged_loss = manifest["training"]["validation_loss"].as_f64().unwrap();
    let epoch_losses: Vec<f64> = loss_values(&run).iter().map(|(_, held)| *held).collect();
    assert!(
        averaged_loss.is_finite()
            && epoch_losses
                .iter()
                .all(|l| (l - averaged_loss).abs() > 1e-9),
        "the averaged network's own loss {averaged_loss}, not an epoch's {epoch_losses:?}"
    );
    let too_many = export_averaged("2", "3");
    assert!(!too_many.status.success());
    assert_stderr_has(&too_many, "--average 3 needs 3 epochs up to epoch 2");

    // A damaged bundle is a clear error.
    let weights = bundle.join("weights.bpk");
    let mut bytes = std::fs::read(&weights).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x55;
    std::fs::write(&weights, bytes).unwrap();
    let broken = trainer(&[
        "generate",
        "--model",
        path(&bundle),
        "--out",
        path(&work.path().join("d.mid")),
    ]);
    assert!(!broken.status.success());
    assert_stderr_has(&broken, "checksum");
}

#[test]
fn resume_after_kill_9_matches_an_uninterrupted_run() {
    let Some(data) = small_corpus() else { return };
    let work = tempdir();
    let (run, straight) = (work.path().join("run"), work.path().join("straight"));
    // Kill it hard as soon as the first epoch's checkpoint is committed.
    let mut child = spawn_until_first_checkpoint(data.path(), &run, "4");
    child.kill().unwrap();
    child.wait().unwrap();
    ok(&trainer(&[
        "train",
        "--data",
        path(data.path()),
        "--style",
        "s",
        "--out",
        path(&run),
        "--resume",
    ]));
    ok(&train(
        data.path(),
        &straight,
        &["--epochs", "4", "--patience", "0"],
    ));
    assert_eq!(losses(&run).len(), 4);
    assert_eq!(losses(&run), losses(&straight));
}

#[test]
fn seed_preset_trains_with_the_seed_tokens() {
    let Some(data) = small_corpus() else { return };
    let work = tempdir();
    let run = work.path().join("seed");
    let out = train(
        data.path(),
        &run,
        &["--preset", "seed", "--epochs", "1", "--stride", "8"],
    );
    ok(&out);
    let run_file = run_json(&run);
    assert_eq!(run_file["recipe"]["tokenizer"]["kind"], "seed");
    assert_eq!(run_file["recipe"]["targets"], "last-only");
    assert_eq!(run_file["recipe"]["optimizer"], "rmsprop");
    assert!(
        run_file["vocabulary"]["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .any(|t| t.as_str().unwrap().contains('.')),
        "chords with octaves"
    );
    assert!(run_file["recipe"]["model"]["meter_steps_per_beat"].is_null());
    let refused = train(
        data.path(),
        &work.path().join("seed-meter"),
        &["--preset", "seed", "--meter", "on"],
    );
    assert!(!refused.status.success());
    assert_stderr_has(&refused, "--meter on needs timed tokens");
}

#[test]
fn bad_input_gets_one_clear_line() {
    let work = tempdir();
    let empty = work.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let out = train(&empty, &work.path().join("r1"), &[]);
    assert!(!out.status.success());
    assert_stderr_has(&out, "no usable MIDI files");

    let bad = work.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(bad.join("a.mid"), b"not midi at all").unwrap();
    std::fs::write(bad.join("b.mid"), b"MThd").unwrap();
    let out = train(&bad, &work.path().join("r2"), &[]);
    let stderr = text(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("a.mid: not a valid MIDI file") && stderr.contains("b.mid"),
        "{stderr}"
    );
    assert!(stderr.contains("2 rejected"), "{stderr}");

    let missing = train(&work.path().join("nowhere"), &work.path().join("r3"), &[]);
    assert_stderr_has(&missing, "does not exist");
    // The reason is said once, not once per layer of the error.
    let unreadable = trainer(&["inspect", path(&work.path().join("nowhere/piece.mid"))]);
    let stderr = text(&unreadable.stderr);
    assert!(!unreadable.status.success());
    assert_eq!(stderr.matches("No such file").count(), 1, "{stderr}");

    if let Some(data) = small_corpus() {
        let out = work.path().join("r4");
        let long = trainer(&[
            "train",
            "--data",
            path(data.path()),
            "--style",
            "s",
            "--out",
            path(&out),
            "--seq-len",
            "100000",
            "--backend",
            "cpu",
        ]);
        assert_stderr_has(&long, "too few tokens");
        let blocked = work.path().join("file");
        std::fs::write(&blocked, b"").unwrap();
        let out = train(data.path(), &blocked.join("run"), &[]);
        assert_stderr_has(&out, "cannot create run folder");
    }

    let not_bundle = trainer(&[
        "generate",
        "--model",
        path(work.path()),
        "--out",
        path(&work.path().join("x.mid")),
    ]);
    assert_stderr_has(&not_bundle, "not a model bundle");
    let backend = trainer(&["train", "--data", ".", "--style", "s", "--backend", "tpu"]);
    assert_stderr_has(&backend, "invalid value 'tpu'");
}

#[test]
fn ctrl_c_saves_mid_epoch_and_resume_matches_an_uninterrupted_run() {
    let Some(data) = small_corpus() else { return };
    let work = tempdir();
    let (run, straight) = (work.path().join("run"), work.path().join("straight"));
    let child = spawn_until_first_checkpoint(data.path(), &run, "40");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let out = child.wait_with_output().unwrap();
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted: saved epoch-"), "{stderr}");
    assert!(losses(&run).len() < 40);
    ok(&trainer(&[
        "train",
        "--data",
        path(data.path()),
        "--style",
        "s",
        "--out",
        path(&run),
        "--resume",
    ]));
    ok(&train(
        data.path(),
        &straight,
        &["--epochs", "40", "--patience", "0"],
    ));
    assert_eq!(losses(&run), losses(&straight));
}

/// `train --resume` with the run's folder and any extra flags.
fn resume(data: &Path, run: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "train",
        "--data",
        path(data),
        "--style",
        "test-style",
        "--out",
        path(run),
        "--resume",
    ];
    args.extend_from_slice(extra);
    trainer(&args)
}

#[test]
fn resume_refuses_a_changed_recipe_or_data_folder() {
    let Some(data) = small_corpus() else { return };
    let work = tempdir();
    let run = work.path().join("run");
    ok(&train(data.path(), &run, &["--epochs", "1"]));

    // run.json spells out every setting, optimizer constants included.
    let run_file = run_json(&run);
    let recipe = &run_file["recipe"];
    assert_eq!(recipe["optimizer_settings"]["kind"], "adam");
    assert_eq!(recipe["optimizer_settings"]["beta_2"], 0.999);
    assert_eq!(recipe["lr_decay"], 0.5);
    assert_eq!(recipe["patience"], 3);
    assert_eq!(recipe["transpose"], serde_json::json!([-5, 6]));
    assert_eq!(recipe["sustain_pedal"], true);
    assert_eq!(recipe["tokenizer"]["velocity_buckets"], 4);
    assert!(run_file["data_fingerprint"].as_str().unwrap().len() == 64);

    let changed = resume(data.path(), &run, &["--hidden", "32", "--lr", "0.01"]);
    assert!(!changed.status.success());
    assert_stderr_has(&changed, "--hidden 32 (the run has 24)");
    assert_stderr_has(&changed, "--lr 0.01 (the run has 0.002)");
    let pedal = resume(data.path(), &run, &["--no-pedal"]);
    assert_stderr_has(&pedal, "--no-pedal");
    let meter = resume(data.path(), &run, &["--meter", "off"]);
    assert_stderr_has(&meter, "--meter off (the run has on)");

    // Repeating the run's own flags is fine, and so is a new epoch count.
    let mut same = TINY.to_vec();
    same.extend(["--epochs", "2"]);
    ok(&resume(data.path(), &run, &same));
    assert_eq!(losses(&run).len(), 2);

    // The same folder with one more file is not the data this run trained on.
    let first = std::fs::read_dir(data.path()).unwrap().next().unwrap();
    std::fs::copy(first.unwrap().path(), data.path().join("extra.mid")).unwrap();
    let moved = resume(data.path(), &run, &["--epochs", "3"]);
    assert!(!moved.status.success());
    assert_stderr_has(&moved, "does not hold the files this run trained on");
}

#[test]
fn transposition_widens_the_vocabulary_and_can_be_turned_off() {
    let Some(data) = small_corpus() else { return };
    let work = tempdir();
    let pitches = |run: &Path| -> Vec<String> {
        run_json(run)["vocabulary"]["tokens"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_str().unwrap().to_owned())
            .filter(|t| !t.contains(':') && !t.starts_with('<'))
            .collect()
    };
    let (plain, moved) = (work.path().join("plain"), work.path().join("moved"));
    ok(&train(
        data.path(),
        &plain,
        &["--epochs", "1", "--transpose", "none"],
    ));
    ok(&train(
        data.path(),
        &moved,
        &["--epochs", "1", "--transpose=-5..6"],
    ));
    let (plain, moved) = (pitches(&plain), pitches(&moved));
    assert!(plain.iter().all(|p| moved.contains(p)));
    assert!(moved.len() > plain.len() + 6, "{plain:?} vs {moved:?}");

    let bad = train(
        data.path(),
        &work.path().join("bad"),
        &["--transpose", "3..9"],
    );
    assert!(!bad.status.success());
    assert_stderr_has(&bad, "must hold 0");
}

#[test]
fn early_stopping_ends_a_run_whose_held_out_loss_stops_improving() {
    let Some(data) = small_corpus() else { return };
    let work = tempdir();
    let run = work.path().join("run");
    // A learning rate of 0 never improves on the first epoch's held-out loss.
    let out = train(
        data.path(),
        &run,
        &["--epochs", "10", "--patience", "2", "--lr", "0"],
    );
    ok(&out);
    assert_stderr_has(&out, "stopped early: no better held-out loss for 2 epochs");
    assert_eq!(losses(&run).len(), 3);
}

#[test]
fn to_loss_stops_at_the_first_epoch_that_reaches_it_and_says_when() {
    let Some(data) = small_corpus() else { return };
    let work = tempdir();
    let run = work.path().join("run");
    // Any first epoch's held-out loss is below 50 nats a token.
    let out = train(data.path(), &run, &["--epochs", "5", "--to-loss", "50"]);
    ok(&out);
    assert_stderr_has(&out, "reached held-out loss");
    assert_stderr_has(&out, "≤ 50 at epoch 1 after");
    assert_eq!(losses(&run).len(), 1);
    // A loss no network reaches: every epoch runs, and the run says the target was missed.
    let missed = train(
        data.path(),
        &work.path().join("missed"),
        &["--epochs", "2", "--to-loss", "0.0001"],
    );
    ok(&missed);
    assert_stderr_has(&missed, "held-out loss 0.0001 not reached in 2 epochs");
}

/// (train loss, held-out loss) per epoch, as numbers.
fn loss_values(run: &Path) -> Vec<(f64, f64)> {
    losses(run)
        .iter()
        .map(|line| {
            let fields: Vec<f64> = line.split(',').map(|f| f.parse().unwrap()).collect();
            (fields[1], fields[2])
        })
        .collect()
}

#[test]
fn two_devices_train_as_one_and_a_seed_still_names_the_run() {
    let Some(data) = small_corpus() else { return };
    let work = tempdir();
    let run = |name: &str, extra: &[&str]| {
        let dir = work.path().join(name);
        let mut args = vec!["--epochs", "2", "--patience", "0"];
        args.extend_from_slice(extra);
        let out = train(data.path(), &dir, &args);
        ok(&out);
        dir
    };
    // Without dropout the two shards' summed gradients are the whole batch's: the same losses
    // as one device, up to the order of float sums.
    let one = loss_values(&run("one", &["--dropout", "0"]));
    let two_dir = run("two", &["--dropout", "0", "--devices", "2"]);
    let two = loss_values(&two_dir);
    assert_eq!(one.len(), 2);
    for ((a_train, a_held), (b_train, b_held)) in one.iter().zip(&two) {
        assert!((a_train - b_train).abs() < 1e-4, "{one:?} vs {two:?}");
        assert!((a_held - b_held).abs() < 1e-4, "{one:?} vs {two:?}");
    }
    assert!(
        one[1].1 < one[0].1 || one[1].0 < one[0].0,
        "it learns: {one:?}"
    );
    let run_json = run_json(&two_dir);
    assert!(
        run_json["device"]
            .as_str()
            .unwrap()
            .ends_with("×2 (data parallel)"),
        "{run_json}"
    );
    // With dropout the shards draw from one seeded stream in a fixed order: reproducible.
    assert_eq!(
        losses(&run("a", &["--devices", "2"])),
        losses(&run("b", &["--devices", "2"]))
    );
}

#[test]
fn pieces_too_short_for_a_window_are_named() {
    let Some(data) = small_corpus() else { return };
    let notes: Vec<motif::Note> = (0..3)
        .map(|i| motif::Note {
            start: f64::from(i),
            duration: 1.0,
            pitch: 60 + i as u8,
            velocity: 80,
        })
        .collect();
    let bytes = motif::midi::write_midi(&notes, &motif::midi::WriteOptions::default());
    std::fs::write(data.path().join("tiny.mid"), bytes).unwrap();
    let work = tempdir();
    let out = train(data.path(), &work.path().join("run"), &["--epochs", "1"]);
    ok(&out);
    assert_stderr_has(
        &out,
        "shorter than one window of 24 tokens, not used: tiny.mid",
    );
    let inspect = ok(&trainer(&["inspect", "--seq-len", "24", path(data.path())]));
    assert!(
        inspect.contains("1 file(s) shorter than one training window of 24"),
        "{inspect}"
    );
}

#[test]
fn fine_tuning_starts_from_a_pretrained_run_or_bundle() {
    let Some(data) = small_corpus() else { return };
    let work = tempdir();
    let (base, tuned) = (work.path().join("base"), work.path().join("tuned"));
    ok(&train(data.path(), &base, &["--epochs", "1"]));
    let init = ["--epochs", "1", "--init", path(&base)];
    let out = train(data.path(), &tuned, &init);
    ok(&out);
    assert_stderr_has(&out, "starting from run");
    let run_file = run_json(&tuned);
    assert!(
        run_file["recipe"]["init"]
            .as_str()
            .unwrap()
            .ends_with("epoch 1"),
        "{}",
        run_file["recipe"]["init"]
    );
    // It starts where the pretrained network stopped, not from scratch.
    let first_loss =
        |run: &Path| -> f64 { losses(run)[0].split(',').nth(1).unwrap().parse().unwrap() };
    assert!(first_loss(&tuned) < first_loss(&base));
    // The fine-tune's own dropout applies (a small corpus may want more), not the pretrained
    // run's: without it, the same start and seed train differently.
    let undropped = work.path().join("undropped");
    ok(&train(
        data.path(),
        &undropped,
        &["--epochs", "1", "--dropout", "0", "--init", path(&base)],
    ));
    assert_ne!(losses(&undropped), losses(&tuned));

    // A bundle works as a start too; its shape cannot be changed.
    let bundle = work.path().join("bundle");
    ok(&trainer(&[
        "export",
        "--run",
        path(&base),
        "--out",
        path(&bundle),
    ]));
    ok(&train(
        data.path(),
        &work.path().join("from-bundle"),
        &["--epochs", "1", "--init", path(&bundle)],
    ));
    let reshaped = trainer(&[
        "train",
        "--data",
        path(data.path()),
        "--style",
        "s",
        "--out",
        path(&work.path().join("reshaped")),
        "--init",
        path(&bundle),
        "--hidden",
        "32",
        "--backend",
        "cpu",
    ]);
    assert!(!reshaped.status.success());
    assert_stderr_has(&reshaped, "--hidden 32 (it has 24)");

    // A vocabulary that does not cover the corpus is refused, naming what is missing.
    let narrow = work.path().join("narrow");
    ok(&train(
        data.path(),
        &narrow,
        &["--epochs", "1", "--min-count", "40", "--transpose", "none"],
    ));
    let uncovered = train(
        data.path(),
        &work.path().join("uncovered"),
        &["--init", path(&narrow)],
    );
    assert!(!uncovered.status.success());
    assert_stderr_has(&uncovered, "its vocabulary lacks");
}

#[test]
fn a_second_run_reads_the_corpus_from_the_token_cache_and_trains_the_same() {
    let Some(data) = small_corpus() else { return };
    let work = tempdir();
    let cache = work.path().join("cache");
    let run = |name: &str| {
        let out = work.path().join(name);
        let output = train_command(data.path(), &out, &["--epochs", "1"])
            .env("MOTIF_CACHE", &cache)
            .output()
            .unwrap();
        ok(&output);
        (text(&output.stderr), losses(&out), run_json(&out))
    };
    let (first, first_losses, first_run) = run("first");
    assert!(first.contains("read and tokenized in"), "{first}");
    let cached: Vec<_> = std::fs::read_dir(cache.join("tokens")).unwrap().collect();
    assert_eq!(cached.len(), 1, "one cache file for one corpus");

    let (second, second_losses, second_run) = run("second");
    assert!(second.contains("from the token cache"), "{second}");
    assert_eq!(first_losses, second_losses);
    assert_eq!(first_run["vocabulary"], second_run["vocabulary"]);
    assert_eq!(
        first_run["data_fingerprint"],
        second_run["data_fingerprint"]
    );

    // A damaged cache file is read past, not trusted: the files are read again.
    let file = std::fs::read_dir(cache.join("tokens"))
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let bytes = std::fs::read(&file).unwrap();
    std::fs::write(&file, &bytes[..bytes.len() / 2]).unwrap();
    let (third, third_losses, _) = run("third");
    assert!(third.contains("read and tokenized in"), "{third}");
    assert_eq!(first_losses, third_losses);

    // A changed file changes the key: the corpus is read again.
    let some_file = std::fs::read_dir(data.path())
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let midi = std::fs::read(&some_file).unwrap();
    std::fs::write(&some_file, [midi.as_slice(), &[0]].concat()).unwrap();
    let (fourth, _, _) = run("fourth");
    assert!(fourth.contains("read and tokenized in"), "{fourth}");
}
