//! What the page and the engine worker say to each other: JSON text over `postMessage`. The
//! page sends [`Command`]s; the worker answers each with [`Reply`]s carrying the command's job
//! number, and announces itself once with [`Reply::Ready`].

use motif::Note;
use motif::bundle::Manifest;
use motif::piece::PieceRequest;
use serde::{Deserialize, Serialize};

use crate::gpu::Probe;
use crate::web::query_param;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Command {
    /// Choose the backend (answered by [`Reply::Backend`]). `base` is the page's address: the
    /// worker resolves the models' URLs against it, so they mean what they mean on the page
    /// (a `<base>` element or a page below the site's root included).
    /// `probed`: the WebGPU adapter the page already asked for, if it did.
    Start {
        job: u32,
        preference: Preference,
        base: String,
        #[serde(default)]
        probed: Option<Probe>,
    },
    /// Fetch, verify and warm up a bundle (`models/<path>`), known afterwards as `key`.
    Load { job: u32, key: String, path: String },
    /// Generate into `slot` until the piece holds `request.notes` new notes. `resume`: go on
    /// with the generator already in `slot` (Continue, or a variation taken up again); else a
    /// new one from `request`.
    Generate {
        job: u32,
        key: String,
        slot: u32,
        request: PieceRequest,
        resume: bool,
    },
    /// Generate several new pieces, each into its slot (Variations). On WebGPU they step as
    /// one batch, which costs about one piece's time, and only the first streams its notes;
    /// on the CPU they run one after another, each streaming. Each ends with a
    /// [`Reply::Done`] naming its place in `pieces`; a Stop ends them all.
    GenerateTogether {
        job: u32,
        key: String,
        pieces: Vec<(u32, PieceRequest)>,
    },
    /// Stop the generation `job`; it answers with what it made so far.
    Stop { job: u32 },
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum Reply {
    /// The worker has started and takes commands.
    Ready,
    Backend {
        job: u32,
        kind: BackendKind,
        detail: String,
    },
    Loaded {
        job: u32,
        style: Box<StyleInfo>,
    },
    /// Notes of the piece from index `from` on: the page cuts its copy there and appends, so a
    /// piece crosses once, not once per update (`from` is below the page's count only where
    /// notes still waiting for a duration were shown flushed and are now final).
    Notes {
        job: u32,
        /// Which of a [`Command::GenerateTogether`]'s pieces (0 for a single one).
        #[serde(default)]
        piece: usize,
        from: usize,
        notes: Vec<Note>,
        prime_notes: usize,
        new_notes: usize,
    },
    /// The generation of `piece` ended (done or stopped); its last notes, as [`Reply::Notes`].
    /// `last`: no other piece of the job follows.
    Done {
        job: u32,
        #[serde(default)]
        piece: usize,
        from: usize,
        notes: Vec<Note>,
        outcome: Outcome,
        last: bool,
    },
    Failed {
        job: u32,
        message: String,
    },
}

impl Reply {
    /// The job the reply answers (`None`: [`Reply::Ready`]).
    pub fn job(&self) -> Option<u32> {
        match self {
            Reply::Ready => None,
            Reply::Backend { job, .. }
            | Reply::Loaded { job, .. }
            | Reply::Notes { job, .. }
            | Reply::Done { job, .. }
            | Reply::Failed { job, .. } => Some(*job),
        }
    }

    /// Whether no more replies follow for its job.
    pub fn ends_job(&self) -> bool {
        match self {
            Reply::Notes { .. } | Reply::Ready => false,
            Reply::Done { last, .. } => *last,
            _ => true,
        }
    }
}

/// How a generation went.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Outcome {
    /// Notes in the piece (the prime's included) and the prime's share.
    pub notes: usize,
    pub prime_notes: usize,
    pub tokens: usize,
    /// New notes and tokens the piece held before this run (Continue).
    pub notes_before: usize,
    pub tokens_before: usize,
    /// From the command to the first generated note, and for the whole run.
    pub first_note_ms: Option<f64>,
    pub total_ms: f64,
    /// Pieces generated in the same steps as this one (one batch on WebGPU), so `total_ms`
    /// made all of them.
    pub side_by_side: usize,
}

/// A loaded style as the page needs it: the model stays in the worker.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StyleInfo {
    pub manifest: Manifest,
    /// Bytes downloaded (manifest + weights).
    pub download_bytes: usize,
    /// Fetch + verify + upload, and the warm-up (shader compilation on WebGPU).
    pub load_ms: f64,
    pub warmup_ms: f64,
    /// URL of the loss curve image, if the bundle has one.
    pub loss_plot: Option<String>,
    /// What generates this style.
    pub runs_on: BackendKind,
    /// Both engines' timings, where they were measured against each other.
    pub measured: Option<String>,
}

/// What generates: WebGPU, or the CPU (wasm SIMD).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BackendKind {
    WebGpu,
    Cpu,
}

impl BackendKind {
    /// The text the page shows (and tests read).
    pub fn name(self) -> &'static str {
        match self {
            BackendKind::WebGpu => "webgpu",
            BackendKind::Cpu => "cpu",
        }
    }
}

/// Which backend the page asks the worker for (`?backend=`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Preference {
    Auto,
    WebGpu,
    Cpu,
    /// As `Auto`, and measure even a fallback adapter against the CPU.
    Measure,
}

impl Preference {
    /// From `?backend=`; anything unknown means automatic.
    pub fn from_query() -> Preference {
        match query_param("backend").as_deref() {
            Some("webgpu") => Preference::WebGpu,
            Some("cpu") => Preference::Cpu,
            Some("measure") => Preference::Measure,
            _ => Preference::Auto,
        }
    }
}
