use burn::config::Config;
use burn::prelude::Device;
use serde::{Deserialize, Serialize};

use super::network::MusicModel;

/// Which recurrent cell the layers use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CellKind {
    Lstm,
    Gru,
}

impl CellKind {
    pub fn name(self) -> &'static str {
        match self {
            CellKind::Lstm => "lstm",
            CellKind::Gru => "gru",
        }
    }
}

impl std::fmt::Display for CellKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for CellKind {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "lstm" => Ok(CellKind::Lstm),
            "gru" => Ok(CellKind::Gru),
            other => Err(format!("unknown cell '{other}' (expected 'lstm' or 'gru')")),
        }
    }
}

/// The network's shape. Stored in every checkpoint and bundle manifest.
#[derive(Config, Debug, PartialEq)]
pub struct ModelConfig {
    pub vocab_size: usize,
    #[config(default = "CellKind::Lstm")]
    pub cell: CellKind,
    #[config(default = 2)]
    pub layers: usize,
    #[config(default = 256)]
    pub hidden: usize,
    #[config(default = 64)]
    pub embedding: usize,
    #[config(default = 0.3)]
    pub dropout: f64,
    #[config(default = 256)]
    pub dense: usize,
    /// Grid steps per beat of the metric-position input ([`crate::meter`]); `None` (and absent
    /// in older manifests): tokens only, as every model before it.
    pub meter_steps_per_beat: Option<usize>,
}

impl ModelConfig {
    pub fn init(&self, device: &Device) -> MusicModel {
        MusicModel::new(self, device)
    }

    /// Parameters the network holds, without building it.
    pub fn parameter_count(&self) -> usize {
        let gates = match self.cell {
            CellKind::Lstm => 4,
            CellKind::Gru => 3,
        };
        let mut total = self.vocab_size * self.embedding;
        if let Some(steps) = self.meter_steps_per_beat {
            total += (steps + usize::from(crate::meter::MAX_BEATS)) * self.embedding;
        }
        let mut input = self.embedding;
        for _ in 0..self.layers {
            // Weights from input and hidden state to every gate, with one bias (a GRU keeps a
            // second bias on its hidden projection).
            total += gates * self.hidden * (input + self.hidden + 1);
            if self.cell == CellKind::Gru {
                total += gates * self.hidden;
            }
            input = self.hidden;
        }
        total + (input + 1) * self.dense + (self.dense + 1) * self.vocab_size
    }
}
