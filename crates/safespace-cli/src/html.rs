//! `safespace eval --report DIR`: the evaluation as one HTML page with ROC and reliability plots drawn
//! as inline SVG, readable offline and without JavaScript.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use safespace::eval::{reliability, roc_curve, Evaluation};

/// Side of a plot's square drawing area, and the margin around it for axes and labels, in pixels.
const SIDE: f64 = 240.0;
const MARGIN: f64 = 44.0;
/// Bins of the reliability diagram (the same ten as the calibration error).
const BINS: usize = 10;

/// One measured category: its metrics and the scores and labels behind them.
pub struct Measured<'a> {
    pub category: &'static str,
    pub evaluation: &'a Evaluation,
    pub scores: &'a [f32],
    pub labels: &'a [bool],
}

/// Writes `dir/index.html` (creating `dir`) and returns its path.
pub fn write(dir: &Path, title: &str, measured: &[Measured]) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(dir)?;
    let path = dir.join("index.html");
    std::fs::write(&path, page(title, measured))?;
    Ok(path)
}

fn page(title: &str, measured: &[Measured]) -> String {
    let mut html = format!(
        "<!doctype html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n<title>{}</title>\n\
         <style>body{{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;color:#1d2433}}\
         table{{border-collapse:collapse}}td,th{{padding:.25rem .6rem;border-bottom:1px solid #d5d9e3;text-align:right}}\
         th:first-child,td:first-child{{text-align:left}}figure{{display:inline-block;vertical-align:top;width:330px;margin:0 1rem 1rem 0}}\
         figcaption{{font-size:.9rem;color:#4a5468}}</style>\n</head>\n<body>\n<h1>{}</h1>\n",
        escape(title),
        escape(title)
    );
    html.push_str(&table(measured));
    for m in measured {
        let _ = writeln!(html, "<h2>{}</h2>", m.category);
        if let Some(note) = &m.evaluation.note {
            let _ = writeln!(html, "<p>{}</p>", escape(note));
        }
        html.push_str(&roc_figure(m));
        html.push_str(&reliability_figure(m));
    }
    html.push_str("</body>\n</html>\n");
    html
}

fn table(measured: &[Measured]) -> String {
    let figure = |v: Option<f64>| v.map_or("–".to_owned(), |v| format!("{v:.3}"));
    let mut html = String::from(
        "<table>\n<tr><th>category</th><th>n</th><th>positives</th><th>ROC-AUC</th><th>PR-AUC</th>\
         <th>threshold</th><th>precision</th><th>recall</th><th>F1</th><th>FPR</th><th>ECE</th></tr>\n",
    );
    for m in measured {
        let e = m.evaluation;
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{:.2}</td><td>{:.3}</td>\
             <td>{:.3}</td><td>{:.3}</td><td>{:.3}</td><td>{}</td></tr>",
            m.category,
            e.n,
            e.positives,
            figure(e.roc_auc),
            figure(e.pr_auc),
            e.threshold,
            e.precision,
            e.recall,
            e.f1,
            e.at_threshold.false_positive_rate(),
            figure(e.ece)
        );
    }
    html.push_str("</table>\n");
    html
}

fn roc_figure(m: &Measured) -> String {
    let Some(curve) = roc_curve(m.scores, m.labels) else {
        return String::new();
    };
    let line: Vec<(f64, f64)> = curve
        .iter()
        .map(|p| (p.false_positive_rate, p.true_positive_rate))
        .collect();
    let e = m.evaluation;
    let marker = (e.at_threshold.false_positive_rate(), e.recall);
    let mut svg = axes(
        &format!("ROC curve, {}", m.category),
        "false-positive rate",
        "recall",
    );
    let _ = write!(
        svg,
        "{}<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"5\" fill=\"#c2410c\"><title>policy threshold {:.2}</title></circle>",
        polyline(&line, "#3056d3"),
        x(marker.0),
        y(marker.1),
        e.threshold
    );
    figure(
        svg,
        &format!(
            "ROC-AUC {}; the dot is the policy threshold {:.2}.",
            e.roc_auc.map_or("–".to_owned(), |v| format!("{v:.3}")),
            e.threshold
        ),
    )
}

fn reliability_figure(m: &Measured) -> String {
    let bins = reliability(m.scores, m.labels, BINS);
    if bins.is_empty() {
        return String::new();
    }
    let largest = bins.iter().map(|b| b.count).max().unwrap_or(1) as f64;
    let mut svg = axes(
        &format!("Reliability, {}", m.category),
        "mean score",
        "share positive",
    );
    let points: Vec<(f64, f64)> = bins
        .iter()
        .map(|b| (b.mean_score, b.positive_rate))
        .collect();
    svg.push_str(&polyline(&points, "#3056d3"));
    for b in &bins {
        let _ = write!(
            svg,
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{:.1}\" fill=\"#3056d3\" fill-opacity=\"0.5\">\
             <title>{:.1}–{:.1}: {} texts, mean score {:.3}, {:.3} positive</title></circle>",
            x(b.mean_score),
            y(b.positive_rate),
            3.0 + 7.0 * (b.count as f64 / largest).sqrt(),
            b.lower,
            b.upper,
            b.count,
            b.mean_score,
            b.positive_rate
        );
    }
    figure(
        svg,
        &format!(
            "{BINS} score bins (dot area ∝ texts); on the diagonal means calibrated. ECE {}.",
            m.evaluation
                .ece
                .map_or("–".to_owned(), |v| format!("{v:.3}"))
        ),
    )
}

/// An SVG with a titled unit square, grid, axis labels and the dashed diagonal; close it with [`figure`].
fn axes(title: &str, x_label: &str, y_label: &str) -> String {
    let size = SIDE + 2.0 * MARGIN;
    let mut svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{size}\" height=\"{size}\" role=\"img\" \
         font-family=\"system-ui,sans-serif\" font-size=\"11\"><title>{}</title>",
        escape(title)
    );
    for tick in [0.0, 0.25, 0.5, 0.75, 1.0] {
        let _ = write!(
            svg,
            "<line x1=\"{0:.1}\" y1=\"{1:.1}\" x2=\"{0:.1}\" y2=\"{2:.1}\" stroke=\"#e3e6ee\"/>\
             <line x1=\"{1:.1}\" y1=\"{3:.1}\" x2=\"{4:.1}\" y2=\"{3:.1}\" stroke=\"#e3e6ee\"/>\
             <text x=\"{0:.1}\" y=\"{5:.1}\" text-anchor=\"middle\">{tick}</text>\
             <text x=\"{6:.1}\" y=\"{7:.1}\" text-anchor=\"end\">{tick}</text>",
            x(tick),
            MARGIN,
            MARGIN + SIDE,
            y(tick),
            x(1.0),
            MARGIN + SIDE + 14.0,
            MARGIN - 4.0,
            y(tick) + 4.0,
        );
    }
    let _ = write!(
        svg,
        "<line x1=\"{:.1}\" y1=\"{:.1}\" x2=\"{:.1}\" y2=\"{:.1}\" stroke=\"#8d97ad\" stroke-dasharray=\"4 4\"/>\
         <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\
         <text transform=\"translate(12 {:.1}) rotate(-90)\" text-anchor=\"middle\">{}</text>\
         <text x=\"{:.1}\" y=\"16\" text-anchor=\"middle\" font-weight=\"600\">{}</text>",
        x(0.0),
        y(0.0),
        x(1.0),
        y(1.0),
        x(0.5),
        MARGIN + SIDE + 32.0,
        escape(x_label),
        y(0.5),
        escape(y_label),
        x(0.5),
        escape(title)
    );
    svg
}

fn figure(svg: String, caption: &str) -> String {
    format!(
        "<figure>{svg}</svg><figcaption>{}</figcaption></figure>\n",
        escape(caption)
    )
}

fn polyline(points: &[(f64, f64)], colour: &str) -> String {
    let coordinates: Vec<String> = points
        .iter()
        .map(|&(px, py)| format!("{:.1},{:.1}", x(px), y(py)))
        .collect();
    format!(
        "<polyline points=\"{}\" fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"/>",
        coordinates.join(" ")
    )
}

/// Pixel position of a rate in [0, 1] on the horizontal axis.
fn x(rate: f64) -> f64 {
    MARGIN + rate.clamp(0.0, 1.0) * SIDE
}

/// Pixel position of a rate in [0, 1] on the vertical axis (up is 1).
fn y(rate: f64) -> f64 {
    MARGIN + (1.0 - rate.clamp(0.0, 1.0)) * SIDE
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
