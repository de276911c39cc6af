//! Decoding that stays on the device: each step's id is sampled where the logits are and fed
//! straight back as the next input, and ids are read back once per chunk instead of once per
//! token. On a GPU the readback, not the arithmetic, is what a small network's step costs.
//!
//! Sampling is the Gumbel-max trick: `argmax(logits / T + g)` with `g = -ln(-ln u)` draws from
//! `softmax(logits / T)` exactly. The uniforms `u` come from a seeded ChaCha8 stream on the CPU
//! and are uploaded once per chunk, so a seed still names the ids. It covers plain temperature
//! sampling only: top-k/top-p, a key's scale, the motif memory and metric positions all need the
//! piece on the CPU between steps (the memory reads the decoded notes), so [`crate::generate`]
//! stays the engine for those; this is what a GPU can do when they are off, and the measure of
//! what the per-token readback costs.

use burn::prelude::*;
use rand::rngs::ChaCha8Rng;
use rand::{Rng, SeedableRng};

use crate::model::{MusicModel, State};
use crate::vocab::UNKNOWN_ID;

/// Samples `count` ids after `first` on `device`, reading them back every `chunk` ids.
pub fn decode_on_device(
    model: &MusicModel,
    device: &Device,
    first: u32,
    count: usize,
    chunk: usize,
    temperature: f32,
    seed: u64,
) -> Result<Vec<u32>, String> {
    let chunk = chunk.max(1);
    let temperature = temperature.max(1e-3);
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let mut input =
        Tensor::<1, Int>::from_data(TensorData::new(vec![i64::from(first)], [1]), device);
    let mut state: Option<State> = None;
    let mut vocab = 0;
    let mut ids = Vec::with_capacity(count);
    while ids.len() < count {
        let n = chunk.min(count - ids.len());
        let mut chosen = Vec::with_capacity(n);
        let mut noise: Option<Tensor<2>> = None;
        for i in 0..n {
            let (logits, next) = model.step(input, state.take());
            state = Some(next);
            if vocab == 0 {
                vocab = logits.dims()[1];
            }
            let noise = noise.get_or_insert_with(|| gumbel(&mut rng, n, vocab, device));
            let scores = logits.div_scalar(temperature) + noise.clone().narrow(0, i, 1);
            let id = scores.argmax(1).reshape([1]);
            chosen.push(id.clone());
            input = id;
        }
        let data = Tensor::cat(chosen, 0).into_data();
        let values = data
            .convert::<i64>()
            .try_into_vec::<i64>()
            .map_err(|e| format!("{e:?}"))?;
        ids.extend(values.into_iter().map(|id| id as u32));
    }
    Ok(ids)
}

/// Gumbel noise [rows, vocab] from the seeded stream; `<unk>` gets −∞ so it is never drawn.
fn gumbel(rng: &mut ChaCha8Rng, rows: usize, vocab: usize, device: &Device) -> Tensor<2> {
    let values: Vec<f32> = (0..rows * vocab)
        .map(|i| {
            if i % vocab == UNKNOWN_ID as usize {
                return f32::NEG_INFINITY;
            }
            // 53 random bits, kept away from 0 so both logarithms are finite.
            let u = ((rng.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
            -(-u.ln()).ln() as f32
        })
        .collect();
    Tensor::from_data(TensorData::new(values, [rows, vocab]), device)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ModelConfig;

    #[test]
    fn chunked_readback_reads_the_same_ids_as_per_token() {
        let device = Device::flex();
        device.seed(3);
        let model = ModelConfig::new(40)
            .with_hidden(16)
            .with_embedding(8)
            .with_dense(16)
            .with_layers(1)
            .init(&device);
        let per_token = decode_on_device(&model, &device, 5, 40, 1, 1.0, 9).unwrap();
        let chunked = decode_on_device(&model, &device, 5, 40, 16, 1.0, 9).unwrap();
        assert_eq!(per_token, chunked);
        assert!(per_token.iter().all(|&id| id != UNKNOWN_ID && id < 40));
        // A random network at temperature 1 spreads its draws; another seed draws others.
        let distinct: std::collections::HashSet<_> = per_token.iter().collect();
        assert!(distinct.len() > 5, "{per_token:?}");
        assert_ne!(
            decode_on_device(&model, &device, 5, 40, 16, 1.0, 10).unwrap(),
            chunked
        );
    }
}
