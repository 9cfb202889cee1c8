//! Training windows from peak files: summit windows on hand-worked narrowPeak and BED cases,
//! labels from the peaks covering each window's centre, the errors a user can cause, and
//! negatives whose GC distribution matches the positives' (within 0.02 at every decile), off the
//! blacklist, free of Ns and of peaks.

use std::path::{Path, PathBuf};

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sepfc::data::genome::{Genome, write_fai};
use sepfc::data::peaks::{Negatives, gc_fraction, peak_windows, read_peaks};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// `chr1` of 100 bases (`i`th base from a 4-letter cycle) and `chr2` of 30, indexed.
fn small_genome(dir: &Path) -> Genome {
    let chr1: String = (0..100).map(|i| ['A', 'C', 'G', 'T'][i % 4]).collect();
    let chr2: String = (0..30).map(|i| ['T', 'T', 'G'][i % 3]).collect();
    let fasta = write(dir, "genome.fa", &format!(">chr1\n{chr1}\n>chr2\n{chr2}\n"));
    write_fai(&fasta).unwrap();
    Genome::open(&fasta).unwrap()
}

/// A narrowPeak line: chrom start end, then name score strand signal p q, then the summit offset.
fn narrow(chrom: &str, start: u64, end: u64, summit: i64) -> String {
    format!("{chrom}\t{start}\t{end}\tpeak\t0\t.\t5.0\t3.0\t2.0\t{summit}\n")
}

#[test]
fn windows_are_centred_on_summits_and_labelled_by_the_peaks_over_their_centres() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let genome = small_genome(d);
    // task a: summit at 20 + 5 = 25; no summit (-1): centre (40 + 61) / 2 = 50; a peak near the
    // end of chr2 whose window would leave it; a peak whose summit repeats the first's
    let a = write(
        d,
        "a.narrowPeak",
        &(narrow("chr1", 20, 30, 5)
            + &narrow("chr1", 40, 61, -1)
            + &narrow("chr2", 25, 30, 4)
            + &narrow("chr1", 24, 27, 1)),
    );
    // task b, plain BED: centre (45 + 56) / 2 = 50 (the same window as a's second), and a
    // peak covering a's first window's centre but centred elsewhere (70)
    let b = write(d, "b.bed", "chr1\t45\t56\nchr1\t25\t115\n");
    let peaks = [("a".to_string(), a.clone()), ("b".to_string(), b.clone())];
    let read = read_peaks(&a).unwrap();
    assert_eq!(
        read.iter().map(|p| p.summit).collect::<Vec<_>>(),
        [25, 50, 29, 25]
    );
    assert_eq!(read_peaks(&b).unwrap()[1].summit, 70);
    let windows = peak_windows(&peaks, &genome, 10, None).unwrap();
    // windows of 10 start 5 before their centres: 20, 45 and 65; the chr2 window [24, 34)
    // leaves chr2 (30 bases)
    assert_eq!(windows.ids, ["chr1:20-30", "chr1:45-55", "chr1:65-75"]);
    assert_eq!(windows.off_chromosome, 1);
    assert_eq!(windows.positives, 3);
    let cycle = |from: usize| -> Vec<u8> { (from..from + 10).map(|i| b"ACGT"[i % 4]).collect() };
    assert_eq!(windows.sequences, [cycle(20), cycle(45), cycle(65)]);
    // centre 25: a (20-30) and b (25-115); centre 50: a (40-61) and b (45-56); centre 70: b only
    assert_eq!(windows.targets, [1.0, 1.0, 1.0, 1.0, 0.0, 1.0]);
    // an odd length: the window starts floor(L/2) before the summit
    let odd = peak_windows(&peaks[..1], &genome, 5, None).unwrap();
    assert_eq!(odd.ids[0], "chr1:23-28");
}

#[test]
fn peak_file_errors_name_the_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let genome = small_genome(d);
    let message = |peaks: &Path| {
        peak_windows(&[("t".into(), peaks.to_path_buf())], &genome, 10, None)
            .unwrap_err()
            .to_string()
    };
    let outside = write(
        d,
        "out.narrowPeak",
        &(narrow("chr1", 20, 30, 3) + &narrow("chr1", 20, 30, 10)),
    );
    let m = message(&outside);
    assert!(
        m.starts_with(&format!(
            "{}:2: summit offset 10 is outside",
            outside.display()
        )),
        "{m}"
    );
    let short = write(
        d,
        "short.narrowPeak",
        "chr1\t20\t30\tpeak\t0\t.\t5.0\t3.0\t2.0\n",
    );
    let m = message(&short);
    assert!(
        m.contains(":1: a narrowPeak line has 10 columns, this one 9"),
        "{m}"
    );
    let text = write(
        d,
        "text.narrowPeak",
        &narrow("chr1", 20, 30, 3).replace("\t3\n", "\tmid\n"),
    );
    assert!(message(&text).contains("summit offset (column 10) 'mid' is not an integer"));
    let unknown = write(d, "unknown.bed", "chr1\t20\t30\nchrX\t5\t9\n");
    let m = message(&unknown);
    assert!(
        m.starts_with(&format!("{}:2:", unknown.display()))
            && m.contains("unknown chromosome 'chrX'"),
        "{m}"
    );
    let off = write(d, "off.bed", "chr2\t26\t30\n");
    assert!(message(&off).contains("no peak has a 10 bp window inside its chromosome"));
}

/// A genome of 8 chromosomes of 20 kb whose GC content changes every 2 kb (0.3, 0.5 or 0.7), with
/// an N run, and GC-rich peaks; also the blacklist.
fn gc_genome(dir: &Path, rng: &mut StdRng) -> (Genome, Vec<(String, PathBuf)>, PathBuf) {
    let mut fasta = String::new();
    let mut peaks = String::new();
    for c in 0..8 {
        let mut seq = Vec::with_capacity(20_000);
        for block in 0..10 {
            let gc = [0.3, 0.5, 0.7][(block + c) % 3];
            for _ in 0..2000 {
                let strong = rng.random_bool(gc);
                let pick = rng.random_bool(0.5);
                seq.push(match (strong, pick) {
                    (true, true) => b'G',
                    (true, false) => b'C',
                    (false, true) => b'A',
                    (false, false) => b'T',
                });
            }
            if gc == 0.7 {
                for _ in 0..12 {
                    let start = block * 2000 + rng.random_range(0..1800);
                    peaks += &format!("chr{c}\t{start}\t{}\n", start + 200);
                }
            }
        }
        seq[15_000..15_500].fill(b'N');
        fasta += &format!(">chr{c}\n{}\n", String::from_utf8(seq).unwrap());
    }
    let path = write(dir, "gc.fa", &fasta);
    write_fai(&path).unwrap();
    let peaks = write(dir, "rich.bed", &peaks);
    let blacklist = write(dir, "blacklist.bed", "chr0\t0\t6000\nchr3\t10000\t20000\n");
    (
        Genome::open(&path).unwrap(),
        vec![("rich".to_string(), peaks)],
        blacklist,
    )
}

/// The deciles of `values`.
fn deciles(mut values: Vec<f64>) -> Vec<f64> {
    values.sort_by(f64::total_cmp);
    (1..10)
        .map(|k| values[k * (values.len() - 1) / 10])
        .collect()
}

#[test]
fn negatives_match_the_positives_gc_and_avoid_blacklist_ns_and_peaks() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = StdRng::seed_from_u64(3);
    let (genome, peaks, blacklist) = gc_genome(dir.path(), &mut rng);
    let negatives = Negatives {
        per_positive: 2.0,
        gc_matched: true,
        blacklist: Some(blacklist.clone()),
        seed: 1,
    };
    let length = 500;
    let windows = peak_windows(&peaks, &genome, length, Some(&negatives)).unwrap();
    let p = windows.positives;
    assert!(p > 200, "{p} positives");
    assert_eq!(windows.ids.len() - p, 2 * p);
    assert!(windows.targets[p..].iter().all(|&t| t == 0.0));
    let gc: Vec<f64> = windows.sequences.iter().map(|s| gc_fraction(s)).collect();
    let (pos, neg) = (deciles(gc[..p].to_vec()), deciles(gc[p..].to_vec()));
    for (a, b) in pos.iter().zip(&neg) {
        assert!(
            (a - b).abs() <= 0.02,
            "GC deciles: positives {pos:?}, negatives {neg:?}"
        );
    }
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!((mean(&gc[..p]) - mean(&gc[p..])).abs() <= 0.02);
    let peak_spans = read_peaks(&peaks[0].1).unwrap();
    for (id, seq) in windows.ids[p..].iter().zip(&windows.sequences[p..]) {
        let (chrom, span) = id.split_once(':').unwrap();
        let (start, end) = span.split_once('-').unwrap();
        let (start, end): (u64, u64) = (start.parse().unwrap(), end.parse().unwrap());
        assert!(!(chrom == "chr0" && start < 6000), "{id} on the blacklist");
        assert!(!(chrom == "chr3" && end > 10000), "{id} on the blacklist");
        assert!(seq.iter().all(|b| b"ACGT".contains(b)), "{id} has Ns");
        let centre = start + length as u64 / 2;
        assert!(
            !peak_spans
                .iter()
                .any(|pk| pk.chrom == chrom && pk.start <= centre && centre < pk.end),
            "{id} centred in a peak"
        );
    }
    // the same seed draws the same negatives; without matching the GC is the genome's
    assert_eq!(
        peak_windows(&peaks, &genome, length, Some(&negatives)).unwrap(),
        windows
    );
    let unmatched = Negatives {
        gc_matched: false,
        ..negatives
    };
    let plain = peak_windows(&peaks, &genome, length, Some(&unmatched)).unwrap();
    let plain_gc: Vec<f64> = plain.sequences[p..]
        .iter()
        .map(|s| gc_fraction(s))
        .collect();
    assert!(
        mean(&gc[..p]) - mean(&plain_gc) > 0.08,
        "positives {} vs unmatched negatives {}",
        mean(&gc[..p]),
        mean(&plain_gc)
    );
}
