//! `trainer-cli bench`: training throughput, generation speed and peak memory, printed next to
//! the report's Keras figures measured on a machine like ours (shared/docs/PEERS.md).

use std::time::Instant;

use anyhow::Result;
use burn::prelude::*;
use clap::Parser;
use motif::data::windows;
use motif::generate::Generator;
use motif::sample::SamplingConfig;

use crate::backend;
use crate::cli::{BenchArgs, Cli, Command};
use crate::dataset;
use crate::recipe::Recipe;
use crate::train::{epoch_batches, make_optimizer, train_step, transposer};

/// Keras, seed network, final-fantasy, batch 128: 1,279 s per epoch, ~3,500 time steps/s.
const KERAS_EPOCH_SECONDS: f64 = 1279.0;
const KERAS_STEPS_PER_SECOND: f64 = 3555.0;
/// Keras predict loop: 500 notes in 102 s.
const KERAS_NOTES_PER_SECOND: f64 = 4.9;

pub fn run(args: &BenchArgs) -> Result<()> {
    let data_dir = args.data.to_string_lossy().into_owned();
    let preset = format!("{:?}", args.preset).to_lowercase();
    let Cli {
        command: Command::Train(train_args),
    } = Cli::parse_from([
        "trainer-cli",
        "train",
        "--data",
        &data_dir,
        "--style",
        "bench",
        "--preset",
        &preset,
    ])
    else {
        unreachable!("parsed a train command")
    };
    let train_args = crate::cli::TrainArgs {
        hidden: args.hidden,
        layers: args.layers,
        cell: args.cell,
        batch: args.batch,
        ..train_args
    };
    let mut recipe = Recipe::from_args(&train_args);
    let backend = backend::select(args.backend)?;
    let data = dataset::prepare(&recipe, None)?;
    recipe.model.vocab_size = data.vocab.len();
    let per_epoch = windows(&data.train.ids, recipe.seq_len, recipe.stride, 0)
        .len()
        .div_ceil(recipe.batch);
    println!(
        "{preset} preset on {}: {} {}×{}, {} parameters, batch {}, windows of {} ({:?}), {} batches per epoch, {}",
        data_dir,
        recipe.model.cell,
        recipe.model.layers,
        recipe.model.hidden,
        recipe.model.parameter_count(),
        recipe.batch,
        recipe.seq_len,
        recipe.targets,
        per_epoch,
        backend.training_description(args.devices)
    );

    let devices = backend.training_devices(args.devices.into())?;
    let device = devices[0].clone();
    device.seed(1);
    let mut model = recipe.model.init(&device);
    let mut optimizer = make_optimizer(&recipe);
    let transposer = transposer(&recipe, &data.vocab);
    let batches = epoch_batches(&data.train.ids, &recipe, transposer.as_ref(), 1).batches;
    let mut times = Vec::new();
    let mut steps = 0usize;
    for (i, windows) in batches.iter().take(args.batches + 1).enumerate() {
        let started = Instant::now();
        model = train_step(
            model,
            &mut optimizer,
            (&data.train, windows, None),
            (&recipe, transposer.as_ref(), recipe.lr),
            &devices,
        )
        .model;
        // The first batch includes one-off allocation and warm-up.
        if i > 0 {
            times.push(started.elapsed().as_secs_f64());
            steps += windows.len() * recipe.seq_len;
        }
    }
    let seconds: f64 = times.iter().sum();
    let per_batch = seconds / times.len().max(1) as f64;
    let epoch = per_batch * per_epoch as f64;
    println!(
        "train: {:.3} s per batch, {:.0} time steps/s ({:.2}× Keras's {KERAS_STEPS_PER_SECOND:.0}), one epoch ≈ {:.0} s ({:.1}× faster than Keras's {KERAS_EPOCH_SECONDS:.0} s)",
        per_batch,
        steps as f64 / seconds,
        steps as f64 / seconds / KERAS_STEPS_PER_SECOND,
        epoch,
        KERAS_EPOCH_SECONDS / epoch
    );

    let model = model.valid();
    let mut generator = Generator::new(
        &recipe.tokenizer,
        data.vocab.clone(),
        &data.train.ids[0][..32.min(data.train.ids[0].len())],
        model.uses_meter().then(|| data.train_clock(0)),
        SamplingConfig::default(),
        1,
    );
    let stepper = backend::Stepper::new(&model, &backend);
    let started = Instant::now();
    stepper.run(&mut generator, args.notes, args.notes * 16)?;
    let seconds = started.elapsed().as_secs_f64();
    let notes = generator.new_notes();
    println!(
        "generate: {notes} notes ({} tokens) in {:.3} s = {:.0} notes/s, {:.2} ms per token ({:.0}× Keras's {KERAS_NOTES_PER_SECOND} notes/s)",
        generator.generated.len(),
        seconds,
        notes as f64 / seconds,
        seconds * 1e3 / generator.generated.len() as f64,
        notes as f64 / seconds / KERAS_NOTES_PER_SECOND
    );
    if let Some(peak) = peak_memory_mib() {
        println!("peak memory: {peak:.0} MiB (resident)");
    }
    Ok(())
}

/// High-water mark of resident memory, from /proc (Linux only).
fn peak_memory_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}
