//! Sequence logos of attributions: at each position the letters of the bases, each as tall as
//! its contribution, positive ones stacked above the axis and negative ones below; A green,
//! C blue, G orange, T red; known motif sites shaded and named.
//!
//! The letters are drawn as polygons in a unit box stretched to their height (a font's glyphs
//! cannot be stretched one way only).

use std::path::Path;

use plotters::prelude::*;

use crate::figure::{FONT, render, text};
use crate::recovery::Site;
use crate::{Error, Result};

/// The colours of A, C, G and T.
pub const COLOURS: [RGBColor; 4] = [
    RGBColor(0, 153, 0),
    RGBColor(0, 0, 204),
    RGBColor(255, 170, 0),
    RGBColor(204, 0, 0),
];

/// The shade of a known site.
pub const SITE_SHADE: RGBColor = RGBColor(215, 215, 215);

/// A named site to shade.
#[derive(Debug, Clone, PartialEq)]
pub struct Mark {
    /// The positions.
    pub site: Site,
    /// The label drawn above it (a motif name).
    pub label: String,
}

/// A point of a letter's outline in its unit box, `(x, y)` with `y` up.
type Point = (f64, f64);

/// Points `(0.5 + rx cos a, 0.5 + ry sin a)` for `a` from `from` to `to` degrees.
fn arc(rx: f64, ry: f64, from: f64, to: f64, steps: usize) -> Vec<Point> {
    (0..=steps)
        .map(|i| {
            let a = (from + (to - from) * i as f64 / steps as f64).to_radians();
            (0.5 + rx * a.cos(), 0.5 + ry * a.sin())
        })
        .collect()
}

/// The filled polygons of base `c`'s letter in its unit box; for A also the counter (the hole),
/// drawn in the background colour.
fn letter(c: usize) -> (Vec<Vec<Point>>, Option<Vec<Point>>) {
    let ring = |from: f64, to: f64| {
        let mut outline = arc(0.5, 0.5, from, to, 24);
        outline.extend(arc(0.3, 0.32, from, to, 24).into_iter().rev());
        outline
    };
    match c {
        0 => (
            vec![vec![
                (0.0, 0.0),
                (0.4, 1.0),
                (0.6, 1.0),
                (1.0, 0.0),
                (0.78, 0.0),
                (0.67, 0.3),
                (0.33, 0.3),
                (0.22, 0.0),
            ]],
            Some(vec![(0.4, 0.45), (0.5, 0.75), (0.6, 0.45)]),
        ),
        1 => (vec![ring(45.0, 315.0)], None),
        2 => (
            vec![
                ring(45.0, 340.0),
                vec![(0.55, 0.33), (1.0, 0.33), (1.0, 0.5), (0.55, 0.5)],
                vec![(0.82, 0.0), (1.0, 0.0), (1.0, 0.5), (0.82, 0.5)],
            ],
            None,
        ),
        _ => (
            vec![
                vec![(0.0, 0.82), (1.0, 0.82), (1.0, 1.0), (0.0, 1.0)],
                vec![(0.4, 0.0), (0.6, 0.0), (0.6, 0.82), (0.4, 0.82)],
            ],
            None,
        ),
    }
}

/// The box of each letter at one position: `(base, bottom, top)`, positive contributions
/// stacked upward from 0 smallest first, negative ones downward.
fn stack(column: [f32; 4]) -> Vec<(usize, f64, f64)> {
    let mut order: Vec<usize> = (0..4).filter(|&c| column[c] != 0.0).collect();
    order.sort_by(|&a, &b| column[a].abs().total_cmp(&column[b].abs()));
    let (mut up, mut down) = (0.0, 0.0);
    let mut boxes = Vec::new();
    for c in order {
        let v = f64::from(column[c]);
        if v > 0.0 {
            boxes.push((c, up, up + v));
            up += v;
        } else {
            boxes.push((c, down + v, down));
            down += v;
        }
    }
    boxes
}

/// The `(4, L)` values of `values` as columns, one per position.
fn columns(values: &[f32], length: usize) -> Vec<[f32; 4]> {
    (0..length)
        .map(|l| std::array::from_fn(|c| values[c * length + l]))
        .collect()
}

/// The lowest and highest edge of the letter stacks of `values` (`(4, L)`), 0 included.
pub(crate) fn stack_range(values: &[f32], length: usize) -> (f64, f64) {
    let (mut lo, mut hi) = (0.0f64, 0.0f64);
    for column in columns(values, length) {
        for (_, bottom, top) in stack(column) {
            lo = lo.min(bottom);
            hi = hi.max(top);
        }
    }
    (lo, hi)
}

/// The letters of `values` (`(4, L)`) as filled polygons in chart coordinates, position `l`
/// spanning `l..l + 1` along x, each A's counter filled with `background(l)`.
pub(crate) fn letter_polygons(
    values: &[f32],
    length: usize,
    background: impl Fn(usize) -> RGBColor,
) -> Vec<Polygon<(f64, f64)>> {
    let mut out = Vec::new();
    for (l, column) in columns(values, length).into_iter().enumerate() {
        for (c, bottom, top) in stack(column) {
            let place = |&(x, y): &Point| (l as f64 + 0.05 + 0.9 * x, bottom + (top - bottom) * y);
            let (parts, hole) = letter(c);
            for part in &parts {
                out.push(Polygon::new(
                    part.iter().map(place).collect::<Vec<_>>(),
                    COLOURS[c].filled(),
                ));
            }
            if let Some(hole) = hole {
                out.push(Polygon::new(
                    hole.iter().map(place).collect::<Vec<_>>(),
                    background(l).filled(),
                ));
            }
        }
    }
    out
}

/// Draws the logo of `values` (`(4, L)`, channels A, C, G, T: e.g. one-hot input times
/// hypothetical contributions) to the PNG `path`, titled `title`, with `marks` shaded.
///
/// ```
/// use sepfc::explain::logo::draw_logo;
/// let dir = tempfile::tempdir().unwrap();
/// let path = dir.path().join("logo.png");
/// // positions 0..3: A +1, C -0.5, nothing
/// let values = [1.0, 0.0, 0.0, /* C */ 0.0, -0.5, 0.0, /* G */ 0.0, 0.0, 0.0, /* T */ 0.0, 0.0, 0.0];
/// draw_logo(&values, 3, "example", &[], &path).unwrap();
/// assert!(std::fs::metadata(&path).unwrap().len() > 0);
/// ```
pub fn draw_logo(
    values: &[f32],
    length: usize,
    title: &str,
    marks: &[Mark],
    path: &Path,
) -> Result<()> {
    if length == 0 || values.len() != 4 * length {
        return Err(Error::invalid(
            "draw_logo",
            format!("{} values are not (4, {length})", values.len()),
        ));
    }
    let (mut lo, mut hi) = stack_range(values, length);
    if hi - lo < 1e-12 {
        (lo, hi) = (-1.0, 1.0);
    }
    let pad = 0.08 * (hi - lo);
    let (lo, hi) = (lo - pad, hi + pad);
    let width = (12 * length as u32).clamp(480, 4000);
    render(path, (width, 240), |root| {
        let mut chart = ChartBuilder::on(root)
            .caption(title, (FONT, 15))
            .margin(8)
            .x_label_area_size(22)
            .y_label_area_size(48)
            .build_cartesian_2d(0f64..length as f64, lo..hi)
            .map_err(text)?;
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(10)
            .x_label_formatter(&|x| format!("{x:.0}"))
            .y_labels(5)
            .label_style((FONT, 11))
            .draw()
            .map_err(text)?;
        chart
            .draw_series(marks.iter().map(|m| {
                Rectangle::new(
                    [(m.site.start as f64, lo), (m.site.end as f64, hi)],
                    SITE_SHADE.filled(),
                )
            }))
            .map_err(text)?;
        chart
            .draw_series(marks.iter().map(|m| {
                Text::new(
                    m.label.clone(),
                    (m.site.start as f64, hi - 0.02 * (hi - lo)),
                    (FONT, 11).into_font().color(&BLACK),
                )
            }))
            .map_err(text)?;
        chart
            .draw_series(LineSeries::new([(0.0, 0.0), (length as f64, 0.0)], BLACK))
            .map_err(text)?;
        let background = |l: usize| {
            if marks.iter().any(|m| m.site.start <= l && l < m.site.end) {
                SITE_SHADE
            } else {
                WHITE
            }
        };
        chart
            .draw_series(letter_polygons(values, length, background))
            .map_err(text)?;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_letters_stack_up_from_the_smallest_and_negative_ones_down() {
        let boxes = stack([0.5, -0.25, 1.0, 0.0]);
        assert_eq!(boxes, [(1, -0.25, 0.0), (0, 0.0, 0.5), (2, 0.5, 1.5)]);
        assert!(stack([0.0; 4]).is_empty());
    }

    #[test]
    fn every_letter_stays_in_its_box() {
        for c in 0..4 {
            let (parts, hole) = letter(c);
            for p in parts.iter().flatten().chain(hole.iter().flatten()) {
                assert!(
                    (0.0..=1.0).contains(&p.0) && (0.0..=1.0).contains(&p.1),
                    "{c}: {p:?}"
                );
            }
        }
    }
}
