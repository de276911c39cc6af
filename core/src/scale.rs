//! Keys and scales for constrained improvisation (the report's experiment 4: "a legal set of
//! notes"): sampling masks every pitch token with a note outside the scale and renormalises over
//! the rest; timing, velocity and `<unk>` tokens are untouched.

use serde::{Deserialize, Serialize};

use crate::Token;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scale {
    Major,
    NaturalMinor,
    HarmonicMinor,
    Dorian,
    Mixolydian,
    Blues,
    MajorPentatonic,
    MinorPentatonic,
}

impl Scale {
    pub const ALL: [Scale; 8] = [
        Scale::Major,
        Scale::NaturalMinor,
        Scale::HarmonicMinor,
        Scale::Dorian,
        Scale::Mixolydian,
        Scale::Blues,
        Scale::MajorPentatonic,
        Scale::MinorPentatonic,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scale::Major => "major",
            Scale::NaturalMinor => "natural-minor",
            Scale::HarmonicMinor => "harmonic-minor",
            Scale::Dorian => "dorian",
            Scale::Mixolydian => "mixolydian",
            Scale::Blues => "blues",
            Scale::MajorPentatonic => "major-pentatonic",
            Scale::MinorPentatonic => "minor-pentatonic",
        }
    }

    /// Semitones above the tonic.
    pub fn intervals(self) -> &'static [u8] {
        match self {
            Scale::Major => &[0, 2, 4, 5, 7, 9, 11],
            Scale::NaturalMinor => &[0, 2, 3, 5, 7, 8, 10],
            Scale::HarmonicMinor => &[0, 2, 3, 5, 7, 8, 11],
            Scale::Dorian => &[0, 2, 3, 5, 7, 9, 10],
            Scale::Mixolydian => &[0, 2, 4, 5, 7, 9, 10],
            Scale::Blues => &[0, 3, 5, 6, 7, 10],
            Scale::MajorPentatonic => &[0, 2, 4, 7, 9],
            Scale::MinorPentatonic => &[0, 3, 5, 7, 10],
        }
    }
}

impl std::str::FromStr for Scale {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.to_ascii_lowercase().replace([' ', '_'], "-");
        let wanted = match wanted.as_str() {
            "minor" => "natural-minor",
            "pentatonic" => "major-pentatonic",
            other => other,
        };
        Scale::ALL
            .into_iter()
            .find(|s| s.name() == wanted)
            .ok_or_else(|| {
                let names: Vec<&str> = Scale::ALL.iter().map(|s| s.name()).collect();
                format!(
                    "unknown scale '{text}' (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

/// A tonic pitch class (0 = C) and a scale.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyScale {
    pub tonic: u8,
    pub scale: Scale,
}

impl KeyScale {
    /// `D`, `F#`, `Bb` (any octave number is ignored) and a scale.
    pub fn parse(tonic: &str, scale: Scale) -> Result<KeyScale, String> {
        let with_octave = format!("{tonic}4");
        crate::tokens::parse_pitch_name(tonic)
            .or_else(|| crate::tokens::parse_pitch_name(&with_octave))
            .map(|pitch| KeyScale {
                tonic: pitch % 12,
                scale,
            })
            .ok_or_else(|| format!("'{tonic}' is not a key (expected C, C#, Db, … B)"))
    }

    pub fn contains(&self, pitch: u8) -> bool {
        let degree = (pitch + 12 - self.tonic % 12) % 12;
        self.scale.intervals().contains(&degree)
    }

    /// Whether sampling may emit `token`: a pitch or chord only when every note is in the
    /// scale; every other token always.
    pub fn allows(&self, token: &Token) -> bool {
        match token {
            Token::Notes(pitches) => pitches.iter().all(|&p| self.contains(p)),
            _ => true,
        }
    }

    /// Share of a pitch-class histogram (C..B, summing to 1) in the scale.
    pub fn share_of_histogram(&self, classes: &[f64; 12]) -> f64 {
        (0..12u8)
            .filter(|&c| self.contains(c))
            .map(|c| classes[usize::from(c)])
            .sum()
    }

    /// The share in the best-fitting key of `scale`: how tonal notes are without a constraint.
    pub fn best_fit_share(scale: Scale, classes: &[f64; 12]) -> f64 {
        Self::best_fit(scale, classes).share_of_histogram(classes)
    }

    /// The key of `scale` holding most of a pitch-class histogram (the lowest tonic on a tie).
    pub fn best_fit(scale: Scale, classes: &[f64; 12]) -> KeyScale {
        (0..12u8)
            .map(|tonic| KeyScale { tonic, scale })
            .fold(None::<(KeyScale, f64)>, |best, key| {
                let share = key.share_of_histogram(classes);
                match best {
                    Some((_, top)) if top >= share => best,
                    _ => Some((key, share)),
                }
            })
            .map(|(key, _)| key)
            .expect("twelve tonics")
    }

    /// Share of `pitches` in the scale (1 for none).
    pub fn share(&self, pitches: impl IntoIterator<Item = u8>) -> f64 {
        let (mut inside, mut all) = (0usize, 0usize);
        for pitch in pitches {
            all += 1;
            inside += usize::from(self.contains(pitch));
        }
        if all == 0 {
            1.0
        } else {
            inside as f64 / all as f64
        }
    }
}

impl std::fmt::Display for KeyScale {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let name = crate::tokens::pitch_name(self.tonic);
        write!(
            f,
            "{} {}",
            name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '-'),
            self.scale.name()
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_scales_and_tokens() {
        let d_dorian = KeyScale::parse("D", "dorian".parse().unwrap()).unwrap();
        // D dorian holds the white keys.
        assert!(
            [62, 64, 65, 67, 69, 71, 72]
                .iter()
                .all(|&p| d_dorian.contains(p))
        );
        assert!(!d_dorian.contains(61));
        assert!(d_dorian.allows(&Token::Notes(vec![50, 53, 57])));
        assert!(!d_dorian.allows(&Token::Notes(vec![50, 54])));
        assert!(d_dorian.allows(&Token::Shift(6)) && d_dorian.allows(&Token::Unknown));
        assert_eq!(KeyScale::parse("Bb", Scale::Major).unwrap().tonic, 10);
        assert!(KeyScale::parse("H", Scale::Major).is_err());
        assert!("lydian".parse::<Scale>().is_err());
        assert_eq!("minor".parse::<Scale>(), Ok(Scale::NaturalMinor));
        assert_eq!(d_dorian.to_string(), "D dorian");
        assert_eq!(d_dorian.share([62, 61, 64, 69]), 0.75);
    }
}
