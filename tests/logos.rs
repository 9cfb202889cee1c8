//! `sepfc logos` on contributions built by hand: the PNG decodes, is not blank, and each
//! letter has its colour at its place: a positive G (orange) above the axis left of a negative
//! T (red) below it, no colour of a base without contribution, and the shade of a JASPAR match
//! only where one is asked for.

mod common;

use std::path::Path;

use common::cli::{fails, ok, s};
use sepfc::explain::logo::{COLOURS, SITE_SHADE};

/// Width, height and RGB pixels of a PNG.
fn decode(path: &Path) -> (usize, usize, Vec<[u8; 3]>) {
    let decoder = png::Decoder::new(std::io::BufReader::new(std::fs::File::open(path).unwrap()));
    let mut reader = decoder.read_info().unwrap();
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).unwrap();
    let channels = info.color_type.samples();
    let pixels = buf[..info.buffer_size()]
        .chunks(channels)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width as usize, info.height as usize, pixels)
}

/// `(min x, max x, min y, max y)` of the pixels of `colour`, or `None`.
fn extent(
    image: &(usize, usize, Vec<[u8; 3]>),
    colour: [u8; 3],
) -> Option<(usize, usize, usize, usize)> {
    let (width, _, pixels) = image;
    pixels
        .iter()
        .enumerate()
        .filter(|(_, p)| **p == colour)
        .map(|(i, _)| (i % width, i / width))
        .fold(None, |acc, (x, y)| match acc {
            None => Some((x, x, y, y)),
            Some((a, b, c, d)) => Some((a.min(x), b.max(x), c.min(y), d.max(y))),
        })
}

fn rgb(c: plotters::style::RGBColor) -> [u8; 3] {
    [c.0, c.1, c.2]
}

#[test]
fn each_letter_has_its_colour_at_its_place() {
    let dir = tempfile::tempdir().unwrap();
    let dir = dir.path();
    let seq = b"ACGTACGTACGTACGTACGT";
    let length = seq.len();
    let mut ohe = Vec::new();
    sepfc::dna::one_hot_into(seq, &mut ohe);
    // hypothetical contributions: G at 2 (+1), T at 7 (-1), and every other channel at every
    // position something the input does not select
    let mut hyp = vec![0.3f32; 4 * length];
    for l in 0..length {
        let base = (0..4).find(|&c| ohe[c * length + l] == 1.0).unwrap();
        hyp[base * length + l] = 0.0;
    }
    hyp[2 * length + 2] = 1.0;
    hyp[3 * length + 7] = -1.0;
    let prefix = dir.join("attr");
    sepfc::io::write_npz(&dir.join("attr.ohe.npz"), &ohe, &[1, 4, length]).unwrap();
    sepfc::io::write_npz(&dir.join("attr.hyp.npz"), &hyp, &[1, 4, length]).unwrap();

    ok(&["logos", "--npz", s(&prefix), "--out", s(&dir.join("plain"))]);
    let image = decode(&dir.join("plain/seq0.png"));
    let (width, height, pixels) = &image;
    assert!(*width >= 480 && *height == 240);
    assert!(
        pixels.iter().filter(|p| **p != [255, 255, 255]).count() > 500,
        "blank"
    );
    let [a, c, g, t] = COLOURS.map(rgb);
    let orange = extent(&image, g).expect("the G is drawn");
    let red = extent(&image, t).expect("the T is drawn");
    assert!(
        orange.3 < red.2,
        "the positive G is above the negative T: {orange:?} {red:?}"
    );
    assert!(
        orange.1 < red.0,
        "G at 2 is left of T at 7: {orange:?} {red:?}"
    );
    assert!(
        extent(&image, a).is_none() && extent(&image, c).is_none(),
        "no A or C contributes"
    );
    assert!(
        extent(&image, rgb(SITE_SHADE)).is_none(),
        "no site asked for"
    );

    // a motif matching GTAC marks its matches
    let jaspar = dir.join("m.jaspar");
    std::fs::write(
        &jaspar,
        ">M1\tGTAC\nA [ 0 0 9 0 ]\nC [ 0 0 0 9 ]\nG [ 9 0 0 0 ]\nT [ 0 9 0 0 ]\n",
    )
    .unwrap();
    ok(&[
        "logos",
        "--npz",
        s(&prefix),
        "--out",
        s(&dir.join("marked")),
        "--ids",
        "0",
        "--jaspar",
        s(&jaspar),
        "--threshold",
        "0.9",
    ]);
    let marked = decode(&dir.join("marked/seq0.png"));
    assert!(
        extent(&marked, rgb(SITE_SHADE)).is_some(),
        "the GTAC matches are shaded"
    );

    let line = fails(&[
        "logos",
        "--npz",
        s(&prefix),
        "--out",
        s(&dir.join("x")),
        "--ids",
        "1",
    ]);
    assert!(
        line.contains("--ids 1") && line.contains("hold 1 sequences"),
        "{line}"
    );
    let line = fails(&[
        "logos",
        "--npz",
        s(&dir.join("none")),
        "--out",
        s(&dir.join("x")),
    ]);
    assert!(line.contains("none.ohe.npz"), "{line}");
}
