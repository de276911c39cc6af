//! The loss curve as an SVG: train and validation loss per epoch.

use anyhow::{Result, anyhow};
use plotters::prelude::*;

use crate::checkpoint::EpochMetrics;

pub fn loss_svg(title: &str, history: &[EpochMetrics]) -> Result<String> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (720, 420)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| anyhow!("plot: {e}"))?;
        let epochs = history.len().max(1) as f64;
        let values = history
            .iter()
            .flat_map(|m| [m.train_loss, m.validation_loss])
            .filter(|v| v.is_finite());
        let (low, high) = values.fold((f64::MAX, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
        let (low, high) = if low <= high {
            (low * 0.95, high * 1.05)
        } else {
            (0.0, 1.0)
        };
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 20))
            .margin(16)
            .x_label_area_size(36)
            .y_label_area_size(52)
            .build_cartesian_2d(0.5..epochs + 0.5, low..high)
            .map_err(|e| anyhow!("plot: {e}"))?;
        chart
            .configure_mesh()
            .x_labels(history.len().clamp(2, 10))
            .x_label_formatter(&|x| format!("{x:.0}"))
            .x_desc("epoch")
            .y_desc("loss (nats per token)")
            .draw()
            .map_err(|e| anyhow!("plot: {e}"))?;
        let series = [
            (
                "train",
                RGBColor(37, 99, 235),
                history
                    .iter()
                    .map(|m| (m.epoch as f64, m.train_loss))
                    .collect::<Vec<_>>(),
            ),
            (
                "validation",
                RGBColor(220, 38, 38),
                history
                    .iter()
                    .map(|m| (m.epoch as f64, m.validation_loss))
                    .collect(),
            ),
        ];
        for (label, color, points) in series {
            chart
                .draw_series(LineSeries::new(points, color.stroke_width(2)))
                .map_err(|e| anyhow!("plot: {e}"))?
                .label(label)
                .legend(move |(x, y)| {
                    PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2))
                });
        }
        chart
            .configure_series_labels()
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()
            .map_err(|e| anyhow!("plot: {e}"))?;
        root.present().map_err(|e| anyhow!("plot: {e}"))?;
    }
    Ok(svg)
}
