//! `latest.svg`: each measurement as a bar against its target.

use std::fmt::Write as _;

use super::{Kind, Report, Row, Target, bytes, marks, shorten, xml};

/// One bar of the chart: a row against its limit, or against its second limit.
struct Bar<'a> {
    label: String,
    ratio: Option<f64>,
    target: Option<&'a Target>,
    met: Option<bool>,
}

/// The bars of `row`: one, or two when it has a second limit (each then says which limit
/// it is against, by its letter).
fn bars(row: &Row) -> Vec<Bar<'_>> {
    let mut label = match row.concurrency {
        Some(c) => format!("{} · c={c}", row.label),
        None => row.label.clone(),
    };
    let tag = row.limit.as_ref().and_then(|limit| limit.tag());
    if let (Some(_), Some(tag)) = (&row.also, tag) {
        label = format!("{label} · of {tag}");
    }
    let mut label = shorten(&label, 46);
    label.push_str(&marks(row));
    let mut bars = vec![Bar {
        label,
        ratio: row.ratio,
        target: row.target.as_ref(),
        met: row.met,
    }];
    if let Some(also) = &row.also {
        let mut label = shorten(&format!("↳ the same, of {}", also.limit.name), 46);
        label.push_str(&marks(row));
        bars.push(Bar {
            label,
            ratio: also.ratio,
            target: also.target.as_ref(),
            met: also.met,
        });
    }
    bars
}

impl Report {
    pub(super) fn svg(&self) -> String {
        const WIDTH: f64 = 960.0;
        const LABEL: f64 = 300.0;
        const BAR: f64 = 560.0;
        const ROW: f64 = 20.0;
        let sections: [(Kind, &str); 3] = [
            (
                Kind::Share,
                "Throughput as a share of its limit (higher is better; tick: target)",
            ),
            (
                Kind::Factor,
                "Latency (p50) as a multiple of its value with 0 stored (lower is better; tick: target)",
            ),
            (
                Kind::Budget,
                "Share of an absolute budget used (lower is better; tick: the budget)",
            ),
        ];
        let mut body = String::new();
        let mut y = 80.0;
        for (kind, title) in sections {
            let bars: Vec<Bar<'_>> = self
                .results
                .iter()
                .filter(|r| r.kind == Some(kind) && r.ratio.is_some())
                .flat_map(bars)
                .collect();
            if bars.is_empty() {
                continue;
            }
            let floor = match kind {
                Kind::Share => 1.0,
                Kind::Factor => 1.5,
                Kind::Budget => 1.2,
            };
            let scale = bars
                .iter()
                .filter_map(|b| b.ratio)
                .chain(bars.iter().filter_map(|b| b.target.map(|t| t.threshold)))
                .fold(floor, f64::max)
                * 1.05;
            let _ = writeln!(
                body,
                r#"<text x="10" y="{:.0}" font-weight="bold">{}</text>"#,
                y + 4.0,
                xml(title)
            );
            y += 14.0;
            // Gridlines at each quarter of the scale's unit.
            let unit_x = |v: f64| LABEL + (v / scale) * BAR;
            let top = y;
            let bottom = y + ROW * bars.len() as f64;
            let mut tick = 0.0;
            while tick <= scale {
                let x = unit_x(tick);
                let _ = writeln!(
                    body,
                    r##"<line x1="{x:.1}" y1="{top:.1}" x2="{x:.1}" y2="{bottom:.1}" stroke="#e0e0e0"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle" fill="#757575">{}</text>"##,
                    bottom + 11.0,
                    match kind {
                        Kind::Share | Kind::Budget => format!("{:.0}%", tick * 100.0),
                        Kind::Factor => format!("{tick:.2}×"),
                    }
                );
                tick += 0.25;
            }
            for bar in bars {
                let ratio = bar.ratio.unwrap_or(0.0);
                let color = match bar.met {
                    Some(true) => "#2e7d32",
                    Some(false) => "#c62828",
                    None => "#90a4ae",
                };
                let label = bar.label;
                let w = (ratio / scale * BAR).clamp(0.0, BAR);
                let tick_x = bar.target.map_or(0.0, |t| unit_x(t.threshold) - LABEL);
                let text_x = LABEL + w.max(tick_x) + 5.0;
                let _ = writeln!(
                    body,
                    r##"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text><rect x="{LABEL}" y="{:.1}" width="{w:.1}" height="{:.1}" fill="{color}"/><text x="{:.1}" y="{:.1}">{}</text>"##,
                    LABEL - 6.0,
                    y + 14.0,
                    xml(&label),
                    y + 3.0,
                    ROW - 6.0,
                    text_x,
                    y + 14.0,
                    xml(&match kind {
                        Kind::Share | Kind::Budget => format!("{:.0} %", ratio * 100.0),
                        Kind::Factor => format!("{ratio:.2}×"),
                    })
                );
                if let Some(target) = bar.target {
                    let x = unit_x(target.threshold);
                    let _ = writeln!(
                        body,
                        r##"<line x1="{x:.1}" y1="{:.1}" x2="{x:.1}" y2="{:.1}" stroke="#212121" stroke-width="2"/>"##,
                        y + 1.0,
                        y + ROW - 1.0
                    );
                }
                y += ROW;
            }
            y += 34.0;
        }
        let height = y + 10.0;
        let m = &self.machine;
        let mut svg = String::new();
        let _ = writeln!(
            svg,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height:.0}" viewBox="0 0 {WIDTH} {height:.0}" font-family="sans-serif" font-size="12">"#
        );
        let _ = writeln!(
            svg,
            r##"<rect width="100%" height="100%" fill="#ffffff"/><text x="10" y="22" font-size="16" font-weight="bold">chat-rooms benchmarks ({} mode): {} met, {} missed</text><text x="10" y="42" fill="#424242">{}</text><text x="10" y="58" font-size="11" fill="#616161">green: target met · red: missed · grey: no target · ⚠ errors · ⚡ disturbed by other processes</text>"##,
            self.mode,
            self.targets_met,
            self.targets_missed,
            xml(&format!(
                "{} · {} cores · {} · {} · PostgreSQL {}",
                self.date,
                m.cores,
                bytes(m.memory_bytes as f64),
                m.cpu_model,
                m.postgres_version
            ))
        );
        svg.push_str(&body);
        svg.push_str("</svg>\n");
        svg
    }
}
