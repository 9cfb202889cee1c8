//! The input readers of `sepfc::data` on small files written here: FASTA (plain, gzip,
//! multi-line, lower case, N), labels TSV, `.target` columns, BED with an indexed genome, id
//! lists, the `Dataset` built from them, its splits and batches; and every error a user can
//! cause, checked to name the file and the line or record.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::write::GzEncoder;
use sepfc::data::Dataset;
use sepfc::data::bed::{Genome, fai_path, read_bed, windows, write_fai};
use sepfc::data::fasta::{read_fasta, read_fasta_from};
use sepfc::data::labels::{read_labels_tsv, read_target_columns};
use sepfc::data::simdata::{Embedding, read_id_list, read_simdata};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn gzip(text: &[u8]) -> Vec<u8> {
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(text).unwrap();
    enc.finish().unwrap()
}

/// `text` compressed with bgzip into blocks of at most `block` bytes (real files have 64 KiB
/// blocks; small ones put block boundaries inside lines and records).
fn write_bgzf(dir: &Path, name: &str, text: &str, block: usize) -> PathBuf {
    let path = dir.join(name);
    let mut writer = noodles_bgzf::io::Writer::new(std::fs::File::create(&path).unwrap());
    for chunk in text.as_bytes().chunks(block) {
        writer.write_all(chunk).unwrap();
        writer.flush().unwrap();
    }
    writer.finish().unwrap();
    path
}

fn write_gz(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, gzip(text.as_bytes())).unwrap();
    path
}

/// The error's one-line message, asserting it has no line breaks.
fn message<T: std::fmt::Debug>(result: sepfc::Result<T>) -> String {
    let text = result.unwrap_err().to_string();
    assert!(!text.contains('\n'), "a multi-line error: {text}");
    text
}

/// Asserts `text` starts with `prefix` and contains every one of `parts`.
#[track_caller]
fn assert_msg(text: &str, prefix: &str, parts: &[&str]) {
    assert!(
        text.starts_with(prefix),
        "error {text:?} does not start with {prefix:?}"
    );
    for part in parts {
        assert!(
            text.contains(part),
            "error {text:?} does not mention {part:?}"
        );
    }
}

// ---------------------------------------------------------------- FASTA

#[test]
fn fasta_multiline_lowercase_n_crlf_and_descriptions() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "x.fa",
        ">seq1 a description\there\r\nACGT\r\nacgn\r\n\r\n>seq2\nNNNN\nAC GT\n;old comment\nRYKM\n>seq3\tx\nT",
    );
    let records = read_fasta(&path).unwrap();
    let got: Vec<(&str, &[u8])> = records
        .iter()
        .map(|r| (r.id.as_str(), r.seq.as_slice()))
        .collect();
    assert_eq!(
        got,
        [
            ("seq1", &b"ACGTacgn"[..]),
            ("seq2", &b"NNNNACGTRYKM"[..]),
            ("seq3", &b"T"[..])
        ]
    );
}

#[test]
fn fasta_gzip_is_detected_by_content_not_name() {
    let dir = tempfile::tempdir().unwrap();
    let text = ">a\nACGT\nGG\n>b\nttaa\n";
    let gz_named_fa = write_gz(dir.path(), "seqs.fa", text);
    let plain_named_gz = write(dir.path(), "seqs2.fa.gz", text);
    let expected = read_fasta_from(text.as_bytes(), "mem").unwrap();
    assert_eq!(expected.len(), 2);
    assert_eq!(expected[0].seq, b"ACGTGG");
    assert_eq!(read_fasta(&gz_named_fa).unwrap(), expected);
    assert_eq!(read_fasta(&plain_named_gz).unwrap(), expected);

    // Multi-member gzip (bgzip writes one member per block): every member is read.
    let mut two = gzip(b">a\nACGT\n");
    two.extend(gzip(b"GG\n>b\nttaa\n"));
    let path = dir.path().join("bgzip.fa.gz");
    std::fs::write(&path, two).unwrap();
    assert_eq!(read_fasta(&path).unwrap(), expected);
}

#[test]
fn fasta_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = |name: &str| d.join(name).display().to_string();

    let m = message(read_fasta(&write(d, "empty.fa", "")));
    assert_msg(&m, &format!("{}: no records", p("empty.fa")), &[]);
    let m = message(read_fasta(&write(d, "blank.fa", "\n \n\n")));
    assert_msg(&m, &format!("{}: no records", p("blank.fa")), &[]);

    let m = message(read_fasta(&write(d, "before.fa", "\nACGT\n>a\nAC\n")));
    assert_msg(
        &m,
        &format!(
            "{}:2: sequence data before the first '>' header",
            p("before.fa")
        ),
        &[],
    );

    let m = message(read_fasta(&write(d, "noid.fa", ">a\nAC\n>  desc\nACGT\n")));
    assert_msg(&m, &format!("{}:3: header with no id", p("noid.fa")), &[]);
    let m = message(read_fasta(&write(d, "noid2.fa", ">\nACGT\n")));
    assert_msg(&m, &format!("{}:1: header with no id", p("noid2.fa")), &[]);

    let m = message(read_fasta(&write(
        d,
        "noseq.fa",
        ">a\nAC\n>b x\n\n>c\nAC\n",
    )));
    assert_eq!(
        m,
        format!("{}:3: record 'b' has no sequence", p("noseq.fa"))
    );
    let m = message(read_fasta(&write(d, "noseq_last.fa", ">a\nAC\n>z\n")));
    assert_eq!(
        m,
        format!("{}:3: record 'z' has no sequence", p("noseq_last.fa"))
    );

    let m = message(read_fasta(&write(
        d,
        "dup.fa",
        ">a\nAC\n>b\nGG\n>a desc\nTT\n",
    )));
    assert_eq!(
        m,
        format!("{}:5: duplicate id 'a' (first seen at line 1)", p("dup.fa"))
    );

    let m = message(read_fasta(&write(d, "digit.fa", ">a\nACGT\nAC1T\n")));
    assert_eq!(
        m,
        format!(
            "{}:3: record 'a': '1' at column 3 is not a sequence character",
            p("digit.fa")
        )
    );

    // The same errors from a gzip file.
    let m = message(read_fasta(&write_gz(d, "dup.fa.gz", ">a\nAC\n>a\nGG\n")));
    assert_msg(&m, &format!("{}:3: duplicate id 'a'", p("dup.fa.gz")), &[]);

    // A truncated gzip file: an error naming the file, not a panic.
    let full =
        gzip(">a\nACGTACGTACGTACGTACGTAAAAAAAAAAAAAAAAAAAAAAAAACCCCCCCCCCCCCCC\n".as_bytes());
    let path = d.join("cut.fa.gz");
    std::fs::write(&path, &full[..full.len() / 2]).unwrap();
    let m = message(read_fasta(&path));
    assert_msg(&m, &p("cut.fa.gz"), &["cannot read"]);

    let m = message(read_fasta(&d.join("missing.fa")));
    assert_msg(&m, &p("missing.fa"), &[]);

    // An origin given to the reader is what errors name.
    let m = message(read_fasta_from(">a\n".as_bytes(), "stdin"));
    assert_eq!(m, "stdin:1: record 'a' has no sequence");
}

// ---------------------------------------------------------------- labels

#[test]
fn labels_tsv_values_missing_and_gzip() {
    let dir = tempfile::tempdir().unwrap();
    let text = "\u{feff}id\tgata\ttal1\r\nseq1\t1\t0\r\nseq2\t0.0\t1.0\r\nseq3\t\tNA\r\nseq4\tnan\t0.25\r\nseq5\tNaN\tna\r\n\r\n";
    for path in [
        write(dir.path(), "labels.tsv", text),
        write_gz(dir.path(), "labels.tsv.gz", text),
    ] {
        let labels = read_labels_tsv(&path).unwrap();
        assert_eq!(labels.tasks, ["gata", "tal1"]);
        assert_eq!(labels.ids, ["seq1", "seq2", "seq3", "seq4", "seq5"]);
        assert_eq!(
            labels.values,
            [
                [Some(1.0), Some(0.0)],
                [Some(0.0), Some(1.0)],
                [None, None],
                [None, Some(0.25)],
                [None, None]
            ]
        );
    }
}

#[test]
fn labels_tsv_errors_name_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = |name: &str| d.join(name).display().to_string();
    let read = |name: &str, text: &str| message(read_labels_tsv(&write(d, name, text)));

    assert_msg(
        &read("empty.tsv", ""),
        &format!("{}: no header line", p("empty.tsv")),
        &[],
    );
    assert_eq!(
        read("noid.tsv", "name\tgata\na\t1\n"),
        format!(
            "{}:1: the header's first column must be 'id', found 'name'",
            p("noid.tsv")
        )
    );
    assert_msg(
        &read("spaces.tsv", "id gata tal1\na 1 0\n"),
        &format!(
            "{}:1: the header's first column must be 'id'",
            p("spaces.tsv")
        ),
        &["tab-separated"],
    );
    assert_msg(
        &read("notasks.tsv", "id\na\n"),
        &format!("{}:1: the header has no task columns", p("notasks.tsv")),
        &[],
    );
    assert_msg(
        &read("duptask.tsv", "id\tgata\tgata\n"),
        &format!("{}:1: task 'gata' appears twice", p("duptask.tsv")),
        &[],
    );
    assert_eq!(
        read("cols.tsv", "id\tgata\ttal1\na\t1\t0\nb\t1\n"),
        format!(
            "{}:3: expected 3 tab-separated columns (id + 2 tasks), got 2",
            p("cols.tsv")
        )
    );
    assert_msg(
        &read("word.tsv", "id\tgata\ttal1\na\t1\t0\nb\t1\tyes\n"),
        &format!(
            "{}:3: column 'tal1': label 'yes' is not a number",
            p("word.tsv")
        ),
        &[],
    );
    assert_msg(
        &read("range.tsv", "id\tgata\na\t2\n"),
        &format!(
            "{}:2: column 'gata': label '2' is outside [0, 1]",
            p("range.tsv")
        ),
        &[],
    );
    assert_msg(
        &read("neg.tsv", "id\tgata\na\t-0.5\n"),
        &format!(
            "{}:2: column 'gata': label '-0.5' is outside [0, 1]",
            p("neg.tsv")
        ),
        &[],
    );
    assert_eq!(
        read("dup.tsv", "id\tgata\na\t1\nb\t0\na\t0\n"),
        format!(
            "{}:4: duplicate id 'a' (first seen at line 2)",
            p("dup.tsv")
        )
    );
    assert_eq!(
        read("emptyid.tsv", "id\tgata\n\t1\n"),
        format!("{}:2: empty id", p("emptyid.tsv"))
    );
}

#[test]
fn target_columns_read_and_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = |name: &str| d.join(name).display().to_string();
    let path = write(d, "ok.target", "1\t0\n0\t1\n0\t1\n1\t0\n\n");
    let labels = read_target_columns(&path, 4).unwrap();
    assert_eq!(labels.tasks, ["bound"]);
    assert_eq!(
        labels.values,
        [[Some(1.0)], [Some(0.0)], [Some(0.0)], [Some(1.0)]]
    );

    assert_eq!(
        message(read_target_columns(&path, 5)),
        format!(
            "{}: 4 rows, but 5 are expected (one per FASTA record, in order)",
            p("ok.target")
        )
    );
    let read = |name: &str, text: &str| message(read_target_columns(&write(d, name, text), 3));
    assert_msg(
        &read("both.target", "1\t0\n1\t1\n0\t1\n"),
        &format!(
            "{}:2: expected `1<TAB>0` (bound) or `0<TAB>1` (not bound), got '1 1'",
            p("both.target")
        ),
        &[],
    );
    assert_msg(
        &read("one.target", "1\t0\n1\n0\t1\n"),
        &format!("{}:2: expected", p("one.target")),
        &["1 columns"],
    );
    assert_msg(
        &read("word.target", "1\t0\n0\t1\nyes\tno\n"),
        &format!("{}:3: expected", p("word.target")),
        &["values must be 0 or 1"],
    );
    assert_msg(
        &read("gap.target", "1\t0\n\n0\t1\n1\t0\n"),
        &format!("{}:2: empty row in the middle", p("gap.target")),
        &[],
    );
}

// ---------------------------------------------------------------- BED and genome

/// A genome with 5-base lines, lower case and N, as three sequences.
const GENOME: &str = ">chr1 first\nACGTA\nCCGGT\nTaacc\nGG\n>chr2\nNNNNN\nACGTN\n>chrM\nACG\n";

fn genome_seqs() -> Vec<(&'static str, &'static [u8])> {
    vec![
        ("chr1", b"ACGTACCGGTTaaccGG"),
        ("chr2", b"NNNNNACGTN"),
        ("chrM", b"ACG"),
    ]
}

#[test]
fn write_fai_matches_samtools_and_fetch_reads_every_range() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text) in [
        ("genome.fa", GENOME.to_string()),
        ("crlf.fa", GENOME.replace('\n', "\r\n")),
    ] {
        let fasta = write(dir.path(), name, &text);
        write_fai(&fasta).unwrap();
        let fai = std::fs::read_to_string(fai_path(&fasta)).unwrap();
        if name == "genome.fa" {
            // What `samtools faidx genome.fa` writes for this file.
            assert_eq!(
                fai,
                "chr1\t17\t12\t5\t6\nchr2\t10\t39\t5\t6\nchrM\t3\t57\t3\t4\n"
            );
        } else {
            assert_eq!(
                fai,
                "chr1\t17\t13\t5\t7\nchr2\t10\t45\t5\t7\nchrM\t3\t66\t3\t5\n"
            );
        }
        let genome = Genome::open(&fasta).unwrap();
        assert_eq!(
            genome.chroms().collect::<Vec<_>>(),
            [("chr1", 17), ("chr2", 10), ("chrM", 3)]
        );
        for (chrom, seq) in genome_seqs() {
            let len = seq.len() as u64;
            assert_eq!(genome.chrom_len(chrom), Some(len));
            for start in 0..=len {
                for end in start..=len {
                    assert_eq!(
                        genome.fetch(chrom, start, end).unwrap(),
                        &seq[start as usize..end as usize],
                        "{name} {chrom}:{start}-{end}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_bgzip_genome_reads_as_its_plain_text_across_block_boundaries() {
    let dir = tempfile::tempdir().unwrap();
    let plain = write(dir.path(), "genome.fa", GENOME);
    write_fai(&plain).unwrap();
    let plain_fai = std::fs::read_to_string(fai_path(&plain)).unwrap();
    for block in [3, 7, 64] {
        let bgz = write_bgzf(dir.path(), &format!("genome.{block}.fa.gz"), GENOME, block);
        write_fai(&bgz).unwrap();
        // offsets into the uncompressed text, as samtools writes them for bgzip files
        assert_eq!(std::fs::read_to_string(fai_path(&bgz)).unwrap(), plain_fai);
        let gzi = std::fs::read(sepfc::data::genome::gzi_path(&bgz)).unwrap();
        let blocks = GENOME.len().div_ceil(block);
        // a count, then (compressed, uncompressed) offsets of every block after the first
        assert_eq!(gzi.len(), 8 + 16 * (blocks - 1), "block {block}");
        let genome = Genome::open(&bgz).unwrap();
        for (chrom, seq) in genome_seqs() {
            let len = seq.len() as u64;
            for start in 0..=len {
                for end in start..=len {
                    assert_eq!(
                        genome.fetch(chrom, start, end).unwrap(),
                        &seq[start as usize..end as usize],
                        "block {block} {chrom}:{start}-{end}"
                    );
                }
            }
        }
    }
    // a stale index is caught in the compressed file as in the plain one
    let bgz = write_bgzf(dir.path(), "stale.fa.gz", GENOME, 7);
    write_fai(&bgz).unwrap();
    let edited = GENOME.replace("NNNNN\n", "NNNNN\nNNNNN\n");
    write_bgzf(dir.path(), "stale.fa.gz", &edited, 7);
    assert_msg(
        &message(Genome::open(&bgz)),
        &format!("{}.fai", bgz.display()),
        &["does not fit"],
    );
}

#[test]
fn genome_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fasta = write(d, "genome.fa", GENOME);
    let shown = fasta.display().to_string();

    let m = message(Genome::open(&fasta));
    assert_msg(
        &m,
        &format!("{shown}: no index: {shown}.fai does not exist"),
        &["samtools faidx"],
    );

    write_fai(&fasta).unwrap();
    let genome = Genome::open(&fasta).unwrap();
    assert_msg(
        &message(genome.fetch("chr9", 0, 1)),
        &format!("{shown}: unknown chromosome 'chr9'"),
        &["chr1, chr2, chrM"],
    );
    assert_eq!(
        message(genome.fetch("chr2", 5, 11)),
        format!("{shown}: chr2:5-11 is not within chr2 (length 10)")
    );

    // The FASTA changed after indexing: detected when the genome is opened, not read as
    // garbage (tests/boundary.rs walks the kinds of change).
    std::fs::write(
        &fasta,
        ">chr1\nACGTACCGGTTaaccGG\n>chr2\nNNNNNACGTN\n>chrM\nACG\n",
    )
    .unwrap();
    assert_msg(
        &message(Genome::open(&fasta)),
        &format!("{shown}.fai"),
        &["does not fit", "samtools faidx"],
    );

    // A malformed index line.
    std::fs::write(fai_path(&fasta), "chr1\t17\t6\t5\t6\nchr2\tten\t30\t5\t6\n").unwrap();
    assert_msg(
        &message(Genome::open(&fasta)),
        &format!("{shown}.fai:2: length 'ten' is not a non-negative integer"),
        &[],
    );
    std::fs::write(fai_path(&fasta), "chr1\t17\t6\t5\t6\nchr1\t10\t30\t5\t6\n").unwrap();
    assert_msg(
        &message(Genome::open(&fasta)),
        &format!("{shown}.fai:2: sequence 'chr1' is indexed twice (first at line 1)"),
        &[],
    );

    // A genome compressed with plain gzip cannot be read by seeking: bgzip's blocks are needed.
    let gz = write_gz(d, "genome.fa.gz", GENOME);
    assert_msg(
        &message(Genome::open(&gz)),
        &gz.display().to_string(),
        &["compressed with gzip, not bgzip", "| bgzip"],
    );
    assert_msg(
        &message(write_fai(&gz)),
        &gz.display().to_string(),
        &["compressed with gzip, not bgzip"],
    );

    // A bgzip genome needs its block index beside the .fai.
    let bgz = write_bgzf(d, "genome.fa.bgz", GENOME, 7);
    write_fai(&bgz).unwrap();
    std::fs::remove_file(sepfc::data::genome::gzi_path(&bgz)).unwrap();
    let bgz_shown = bgz.display().to_string();
    assert_msg(
        &message(Genome::open(&bgz)),
        &format!("{bgz_shown}: no index: {bgz_shown}.gzi does not exist"),
        &["samtools faidx"],
    );

    // Lines of different lengths cannot be indexed.
    let ragged = write(d, "ragged.fa", ">a\nACGT\nAC\nACGT\n");
    assert_msg(
        &message(write_fai(&ragged)),
        &format!(
            "{}:4: sequence 'a' goes on after a shorter or blank line (line 3)",
            ragged.display()
        ),
        &[],
    );
    let long = write(d, "long.fa", ">a\nACGT\nACGTA\n");
    assert_msg(
        &message(write_fai(&long)),
        &format!(
            "{}:3: sequence 'a' (header at line 1) has lines of different lengths",
            long.display()
        ),
        &[],
    );
}

#[test]
fn bed_reads_headers_tracks_names_and_labels() {
    let dir = tempfile::tempdir().unwrap();
    let path = write(
        dir.path(),
        "peaks.bed",
        "browser position chr1:1-100\ntrack name=peaks\n# a comment\n#chrom\tstart\tend\tname\tgata\ttal1\nchr1\t3\t9\tp1\t1\t0\nchr2\t0\t4\t.\tNA\t0.5\n# trailing comment\n\nchrM\t1\t1\tp3\t0\t\n",
    );
    let bed = read_bed(&path, 4).unwrap();
    assert_eq!(bed.tasks, ["gata", "tal1"]);
    let got: Vec<_> = bed
        .intervals
        .iter()
        .map(|iv| {
            (
                iv.chrom.as_str(),
                iv.start,
                iv.end,
                iv.name.as_deref(),
                iv.labels.clone(),
                iv.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            ("chr1", 3, 9, Some("p1"), vec![Some(1.0), Some(0.0)], 5),
            ("chr2", 0, 4, None, vec![None, Some(0.5)], 6),
            ("chrM", 1, 1, Some("p3"), vec![Some(0.0), None], 9),
        ]
    );

    // No header: tasks task0..; no name column; BED6 columns skipped.
    let bed3 = write(dir.path(), "b3.bed", "chr1\t0\t5\t1\t0\n");
    let bed = read_bed(&bed3, 3).unwrap();
    assert_eq!(bed.tasks, ["task0", "task1"]);
    assert_eq!(bed.intervals[0].name, None);
    assert_eq!(bed.intervals[0].labels, [Some(1.0), Some(0.0)]);
    let bed6 = write(dir.path(), "b6.bed", "chr1\t0\t5\tx\t960\t+\t1\n");
    let bed = read_bed(&bed6, 6).unwrap();
    assert_eq!(bed.tasks, ["task0"]);
    assert_eq!(bed.intervals[0].name.as_deref(), Some("x"));
    assert_eq!(bed.intervals[0].labels, [Some(1.0)]);

    // gzip BED.
    let gz = write_gz(dir.path(), "peaks.bed.gz", "chr1\t0\t5\tx\t1\n");
    assert_eq!(read_bed(&gz, 4).unwrap().intervals[0].end, 5);
}

#[test]
fn bed_errors_name_file_and_line() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let p = |name: &str| d.join(name).display().to_string();
    let read = |name: &str, text: &str| message(read_bed(&write(d, name, text), 4));

    assert_eq!(
        read("rev.bed", "chr1\t0\t5\ta\t1\nchr1\t9\t5\ta\t1\n"),
        format!("{}:2: end 5 is before start 9", p("rev.bed"))
    );
    assert_msg(
        &read("word.bed", "track x\nchr1\tten\t20\ta\t1\n"),
        &format!(
            "{}:2: start 'ten' is not a non-negative integer",
            p("word.bed")
        ),
        &[],
    );
    assert_msg(
        &read("neg.bed", "chr1\t0\t-4\ta\t1\n"),
        &format!("{}:1: end '-4' is not a non-negative integer", p("neg.bed")),
        &[],
    );
    assert_eq!(
        read("cols.bed", "chr1\t0\t5\ta\t1\nchr1\t5\t9\ta\n"),
        format!(
            "{}:2: expected 5 columns as in the first interval (line 1), got 4",
            p("cols.bed")
        )
    );
    assert_eq!(
        read(
            "hcols.bed",
            "#chrom\tstart\tend\tname\tgata\nchr1\t0\t5\ta\t1\t0\n"
        ),
        format!(
            "{}:2: expected 5 columns as in the header (line 1), got 6",
            p("hcols.bed")
        )
    );
    assert_msg(
        &read("two.bed", "chr1\t0\n"),
        &format!(
            "{}:1: expected at least 3 tab-separated columns",
            p("two.bed")
        ),
        &["got 2"],
    );
    assert_msg(
        &read("spaces.bed", "chr1 0 5 a 1\n"),
        &format!(
            "{}:1: expected at least 3 tab-separated columns",
            p("spaces.bed")
        ),
        &["tab-separated?"],
    );
    assert_msg(
        &read("short.bed", "chr1\t0\t5\n"),
        &format!(
            "{}:1: label columns start at column 5, but the line has 3 columns",
            p("short.bed")
        ),
        &[],
    );
    assert_msg(
        &read(
            "label.bed",
            "#chrom\tstart\tend\tname\tgata\nchr1\t0\t5\ta\tyes\n",
        ),
        &format!(
            "{}:2: column 'gata': label 'yes' is not a number",
            p("label.bed")
        ),
        &[],
    );
    assert_eq!(
        read("none.bed", "track x\n# nothing\n"),
        format!("{}: no intervals", p("none.bed"))
    );
    assert!(
        message(read_bed(&write(d, "ok.bed", "chr1\t0\t5\n"), 2)).contains("chrom, start and end")
    );
}

#[test]
fn windows_are_centred_and_off_end_windows_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fasta = write(d, "genome.fa", GENOME);
    write_fai(&fasta).unwrap();
    let genome = Genome::open(&fasta).unwrap();
    let chr1 = genome_seqs()[0].1;
    let bed_path = write(
        d,
        "peaks.bed",
        "chr1\t4\t10\tmid\t1\nchr1\t0\t17\t.\t0\nchr2\t5\t6\tone\tNA\n",
    );
    let bed = read_bed(&bed_path, 4).unwrap();

    // Length 4: centres 7, 8, 5 -> windows [5, 9), [6, 10), [3, 7).
    let w = windows(&bed, &genome, 4).unwrap();
    assert_eq!(
        w,
        [
            ("mid".to_string(), chr1[5..9].to_vec(), vec![Some(1.0)]),
            (
                "chr1:0-17".to_string(),
                chr1[6..10].to_vec(),
                vec![Some(0.0)]
            ),
            ("one".to_string(), b"NNAC".to_vec(), vec![None]),
        ]
    );
    // Odd length 5: [5, 10), [6, 11), [3, 8).
    let w = windows(&bed, &genome, 5).unwrap();
    assert_eq!(w[0].1, &chr1[5..10]);
    assert_eq!(w[1].1, &chr1[6..11]);
    assert_eq!(w[2].1, b"NNACG");

    let bed_shown = bed_path.display().to_string();
    // Length 12 on chr2 (length 10): the window [-1, 11) starts before 0.
    assert_msg(
        &message(windows(&bed, &genome, 12)),
        &format!("{bed_shown}:3: the 12 bp window centred on chr2:5-6 would start at -1"),
        &[],
    );
    // Length 16 on chr1 (length 17): interval 2's window [0, 16) fits, interval 1's [-1, 15)
    // does not.
    assert_msg(
        &message(windows(&bed, &genome, 16)),
        &format!("{bed_shown}:1: the 16 bp window centred on chr1:4-10 would start at -1"),
        &[],
    );

    // Off the end: interval 2 (line 2) has a window [7, 17) at length 10... fits; move it.
    let tail = write(d, "tail.bed", "chr1\t0\t4\ta\t1\nchr1\t14\t16\tb\t0\n");
    let tail_bed = read_bed(&tail, 4).unwrap();
    assert_eq!(windows(&tail_bed, &genome, 4).unwrap()[1].1, &chr1[13..17]);
    assert_eq!(
        message(windows(&tail_bed, &genome, 6)),
        format!(
            "{}:1: the 6 bp window centred on chr1:0-4 would start at -1, before the start of chr1",
            tail.display()
        )
    );
    let tail2 = write(d, "tail2.bed", "chr1\t6\t8\ta\t1\nchr1\t14\t16\tb\t0\n");
    assert_eq!(
        message(windows(&read_bed(&tail2, 4).unwrap(), &genome, 6)),
        format!(
            "{}:2: the 6 bp window centred on chr1:14-16, chr1:12-18, runs past the end of chr1 (length 17)",
            tail2.display()
        )
    );

    let unknown = write(d, "unknown.bed", "chr1\t6\t8\ta\t1\nchrZ\t1\t2\tb\t0\n");
    assert_msg(
        &message(windows(&read_bed(&unknown, 4).unwrap(), &genome, 2)),
        &format!("{}:2: unknown chromosome 'chrZ'", unknown.display()),
        &[&fasta.display().to_string()],
    );
    let past = write(d, "past.bed", "chrM\t1\t4\ta\t1\n");
    assert_msg(
        &message(windows(&read_bed(&past, 4).unwrap(), &genome, 1)),
        &format!(
            "{}:1: interval chrM:1-4 ends past the end of chrM (length 3)",
            past.display()
        ),
        &["genome build"],
    );
    assert!(windows(&bed, &genome, 0).is_err());
}

#[test]
fn dataset_from_bed_keeps_chromosomes() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fasta = write(d, "genome.fa", GENOME);
    write_fai(&fasta).unwrap();
    let bed = write(
        d,
        "peaks.bed",
        "#chrom\tstart\tend\tname\tbound\nchr1\t4\t10\tmid\t1\nchr2\t5\t6\t.\tNA\n",
    );
    let data = Dataset::from_bed(&bed, &fasta, 4).unwrap();
    assert_eq!(data.ids, ["mid", "chr2:5-6"]);
    assert_eq!(data.sequences, [b"CCGG".to_vec(), b"NNAC".to_vec()]);
    assert_eq!(
        data.chroms,
        [Some("chr1".to_string()), Some("chr2".to_string())]
    );
    assert_eq!(data.tasks(), ["bound"]);
    assert_eq!(data.targets[0], 1.0);
    assert!(data.targets[1].is_nan());
    assert_eq!(data.length, 4);
    let (rest, selected) = data.split_by_chroms(&["chr2".to_string()]).unwrap();
    assert_eq!(
        (rest.ids[0].as_str(), selected.ids[0].as_str()),
        ("mid", "chr2:5-6")
    );

    // A missing index is written first, and the windows are the same.
    let other = write(d, "other.fa", GENOME);
    let again = Dataset::from_bed(&bed, &other, 4).unwrap();
    assert!(fai_path(&other).exists());
    assert_eq!(again.sequences, data.sequences);
}

// ---------------------------------------------------------------- simdata and id lists

#[test]
fn simdata_and_id_list_small_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let text = "seqName\tsequence\tembeddings\ttask1\ttask2\nempty_1\tACGTACGT\t\t0\t0\nboth_2\tTGATAAGC\tpos-1_GATA_disc1-GATAA,pos-5_TAL-1_known-AGC\t1\tNA\n";
    let data = read_simdata(&write_gz(d, "s.simdata.gz", text)).unwrap();
    assert_eq!(data.tasks, ["task1", "task2"]);
    assert_eq!(data.records.len(), 2);
    assert!(data.records[0].embeddings.is_empty());
    assert_eq!(
        data.records[1].embeddings,
        [
            Embedding {
                motif: "GATA_disc1".into(),
                start: 1,
                planted: "GATAA".into()
            },
            Embedding {
                motif: "TAL-1_known".into(),
                start: 5,
                planted: "AGC".into()
            },
        ]
    );
    assert_eq!(data.records[1].labels, [Some(1.0), None]);

    let p = |name: &str| d.join(name).display().to_string();
    let bad = |name: &str, text: &str| message(read_simdata(&write(d, name, text)));
    assert_msg(
        &bad("h.simdata", "id\tsequence\tembeddings\ttask1\n"),
        &format!("{}:1: expected a header starting seqName", p("h.simdata")),
        &[],
    );
    assert_msg(
        &bad(
            "e.simdata",
            "seqName\tsequence\tembeddings\ttask1\na\tACGT\tpos-x_G-AC\t1\n",
        ),
        &format!(
            "{}:2: 'a': embedding 'pos-x_G-AC' is not of the form",
            p("e.simdata")
        ),
        &["position 'x'"],
    );
    assert_msg(
        &bad(
            "o.simdata",
            "seqName\tsequence\tembeddings\ttask1\na\tACGT\tpos-2_G-ACG\t1\n",
        ),
        &format!(
            "{}:2: 'a': embedding 'pos-2_G-ACG' ends at 5, past the end of the 4 bp sequence",
            p("o.simdata")
        ),
        &[],
    );
    assert_msg(
        &bad(
            "c.simdata",
            "seqName\tsequence\tembeddings\ttask1\ttask2\na\tACGT\t\t1\n",
        ),
        &format!("{}:2: expected 5 tab-separated columns", p("c.simdata")),
        &["got 4"],
    );
    assert_eq!(
        bad(
            "d.simdata",
            "seqName\tsequence\tembeddings\ttask1\na\tACGT\t\t1\na\tACGT\t\t0\n"
        ),
        format!(
            "{}:3: duplicate seqName 'a' (first seen at line 2)",
            p("d.simdata")
        )
    );

    let ids = write_gz(d, "ids.txt.gz", "b\n a \n\nc\n");
    assert_eq!(read_id_list(&ids).unwrap(), ["b", "a", "c"]);
    assert_eq!(
        read_id_list(&write(d, "ids.txt", "b\na\n")).unwrap(),
        ["b", "a"]
    );
    assert_eq!(
        message(read_id_list(&write(d, "dup.txt", "b\na\nb\n"))),
        format!(
            "{}:3: duplicate id 'b' (first seen at line 1)",
            p("dup.txt")
        )
    );
    assert_msg(
        &message(read_id_list(&write(d, "none.txt", "\n"))),
        &p("none.txt"),
        &["no ids"],
    );
}

// ---------------------------------------------------------------- Dataset

#[test]
fn dataset_from_fasta_and_labels_matches_by_id() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fasta = write_gz(
        d,
        "x.fa",
        ">chr1:0-4\nAC\nGT\n>chr2:10-14_shuf\nacgN\n>plain\nGGGG\n",
    );
    let labels = write(
        d,
        "y.tsv",
        "id\tt1\tt2\nplain\t0\t1\nchr1:0-4\t1\tNA\nchr2:10-14_shuf\t0.5\t0\n",
    );
    let data = Dataset::from_fasta_and_labels(&fasta, &labels).unwrap();
    assert_eq!(data.ids, ["chr1:0-4", "chr2:10-14_shuf", "plain"]);
    assert_eq!(data.sequences[1], b"acgN");
    assert_eq!(data.length, 4);
    assert_eq!(
        data.chroms,
        [Some("chr1".into()), Some("chr2".into()), None]
    );
    assert_eq!(data.target(0, 0), Some(1.0));
    assert_eq!(data.target(0, 1), None);
    assert_eq!(data.target(1, 0), Some(0.5));
    assert_eq!(data.target(2, 1), Some(1.0));
    assert!(data.targets[1].is_nan());
}

#[test]
fn dataset_id_and_length_mismatches_name_ids_and_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fasta = write(d, "x.fa", ">a\nACGT\n>b\nACGT\n>c\nACGT\n");
    let (fs, ls) = (
        fasta.display().to_string(),
        d.join("y.tsv").display().to_string(),
    );

    let labels = write(d, "y.tsv", "id\tt\na\t1\nc\t0\n");
    assert_eq!(
        message(Dataset::from_fasta_and_labels(&fasta, &labels)),
        format!("{ls}: 1 of the 3 records of {fs} have no row in {ls}: 'b'")
    );
    let labels = write(d, "y.tsv", "id\tt\na\t1\nb\t1\nc\t0\nz\t0\n");
    assert_eq!(
        message(Dataset::from_fasta_and_labels(&fasta, &labels)),
        format!("{ls}: 1 of the 4 rows of {ls} have no record in {fs}: 'z'")
    );
    // Both at once, and many missing ids: the first few, then a count.
    let labels = write(
        d,
        "y.tsv",
        "id\tt\nq1\t1\nq2\t1\nq3\t1\nq4\t1\nq5\t1\nq6\t1\nq7\t1\nb\t0\n",
    );
    let m = message(Dataset::from_fasta_and_labels(&fasta, &labels));
    assert_msg(
        &m,
        &format!(
            "{ls}: 2 of the 3 records of {fs} have no row in {ls}: 'a', 'c'; and 7 of the 8 rows"
        ),
        &["'q1', 'q2', 'q3', 'q4', 'q5' and 2 more"],
    );

    let ragged = write(d, "r.fa", ">a\nACGT\n>b\nACGTA\n");
    let labels = write(d, "y.tsv", "id\tt\na\t1\nb\t0\n");
    assert_eq!(
        message(Dataset::from_fasta_and_labels(&ragged, &labels)),
        format!(
            "{}: record 'b' (record 2) has length 5, expected 4 (the length of the first record, 'a'); models need sequences of one length",
            ragged.display()
        )
    );
}

#[test]
fn dataset_from_fasta_and_targets_small() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let fasta = write(d, "x.fa", ">chr1:1-3\nACG\n>chr1:5-7_shuf\nTTT\n");
    let target = write(d, "x.target", "1\t0\n0\t1\n");
    let data = Dataset::from_fasta_and_targets(&fasta, &target).unwrap();
    assert_eq!(data.tasks(), ["bound"]);
    assert_eq!(data.targets, [1.0, 0.0]);
    let short = write(d, "short.target", "1\t0\n");
    assert_eq!(
        message(Dataset::from_fasta_and_targets(&fasta, &short)),
        format!(
            "{}: 1 rows, but {} has 2 records (one row per record, in order)",
            short.display(),
            fasta.display()
        )
    );
}

fn toy() -> Dataset {
    let ids: Vec<String> = (0..10)
        .map(|i| format!("chr{}:{}-{}", i % 3 + 1, i * 10, i * 10 + 3))
        .collect();
    let seqs = vec![b"ACG".to_vec(); 10];
    let mut targets = Vec::new();
    for i in 0..10 {
        targets.push(if i % 2 == 0 { 1.0 } else { 0.0 });
        targets.push(if i == 3 { f32::NAN } else { 0.25 });
    }
    Dataset::new(ids, seqs, vec!["a".into(), "b".into()], targets).unwrap()
}

#[test]
fn batch_one_hot_targets_mask_and_rc_augment() {
    let data = Dataset::new(
        vec!["s1".into(), "s2".into()],
        vec![b"ACgN".to_vec(), b"TTAC".to_vec()],
        vec!["t".into(), "u".into()],
        vec![1.0, f32::NAN, 0.0, 0.5],
    )
    .unwrap();
    let b = data.batch(&[1, 0], false);
    assert_eq!(b.n, 2);
    #[rustfmt::skip]
    let expected_x = [
        // TTAC: A, C, G, T rows
        0., 0., 1., 0.,  0., 0., 0., 1.,  0., 0., 0., 0.,  1., 1., 0., 0.,
        // ACgN
        1., 0., 0., 0.,  0., 1., 0., 0.,  0., 0., 1., 0.,  0., 0., 0., 0.,
    ];
    assert_eq!(b.x, expected_x);
    assert_eq!(b.targets, [0.0, 0.5, 1.0, 0.0]);
    assert_eq!(b.mask, [1.0, 1.0, 1.0, 0.0]);

    let b = data.batch(&[0, 1], true);
    assert_eq!(b.n, 4);
    assert_eq!(b.x.len(), 4 * 4 * 4);
    let mut rc = Vec::new();
    sepfc::dna::one_hot_into(b"NcGT", &mut rc); // reverse complement of ACgN
    sepfc::dna::one_hot_into(b"GTAA", &mut rc); // of TTAC
    assert_eq!(&b.x[32..], rc.as_slice());
    assert_eq!(b.targets, [1.0, 0.0, 0.0, 0.5, 1.0, 0.0, 0.0, 0.5]);
    assert_eq!(b.mask, [1.0, 0.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0]);
}

#[test]
fn splits_are_deterministic_disjoint_and_complete() {
    let data = toy();
    let (train, valid) = data.split_fraction(0.3, 7).unwrap();
    assert_eq!((train.len(), valid.len()), (7, 3));
    let (train2, valid2) = data.split_fraction(0.3, 7).unwrap();
    // Same seed, same split (targets compared bitwise: NaN marks the missing label).
    let bits = |d: &Dataset| d.targets.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    assert_eq!((&train.ids, &valid.ids), (&train2.ids, &valid2.ids));
    assert_eq!((bits(&train), bits(&valid)), (bits(&train2), bits(&valid2)));
    let mut all: Vec<&String> = train.ids.iter().chain(&valid.ids).collect();
    all.sort();
    let mut orig: Vec<&String> = data.ids.iter().collect();
    orig.sort();
    assert_eq!(all, orig);
    // Original order kept within each part; targets travel with their records.
    let pos = |id: &String| data.ids.iter().position(|x| x == id).unwrap();
    assert!(train.ids.windows(2).all(|w| pos(&w[0]) < pos(&w[1])));
    for (k, id) in valid.ids.iter().enumerate() {
        let i = pos(id);
        assert_eq!(valid.targets[2 * k], data.targets[2 * i]);
        assert_eq!(valid.chroms[k], data.chroms[i]);
    }
    // Some other seed picks another validation set.
    assert!((0..20).any(|seed| data.split_fraction(0.3, seed).unwrap().1.ids != valid.ids));
    assert_eq!(data.split_fraction(0.0, 1).unwrap().1.len(), 0);
    assert_msg(
        &message(data.split_fraction(0.99, 0)),
        "invalid argument to split_fraction: a held-out fraction of 0.99 of 10 records leaves none for training",
        &[],
    );
    for bad in [-0.1, 1.0, f64::NAN] {
        assert!(message(data.split_fraction(bad, 0)).contains("[0, 1)"));
    }

    let wanted: HashSet<String> = [
        "chr1:30-33".to_string(),
        "chr2:10-13".into(),
        "absent".into(),
    ]
    .into();
    let (rest, selected) = data.split_by_ids(&wanted);
    assert_eq!(selected.ids, ["chr2:10-13", "chr1:30-33"]);
    assert_eq!(rest.len(), 8);
    assert!(rest.ids.iter().all(|id| !wanted.contains(id)));

    let (rest, selected) = data
        .split_by_chroms(&["chr3".into(), "chr1".into()])
        .unwrap();
    assert_eq!(selected.len(), 7);
    assert!(rest.chroms.iter().all(|c| c.as_deref() == Some("chr2")));
    assert_msg(
        &message(data.split_by_chroms(&["8".into()])),
        "invalid argument to split_by_chroms: no record is on chromosome '8'",
        &["chr1, chr2, chr3"],
    );
    let sub = data.subset(&[4, 4, 0]);
    assert_eq!(
        sub.ids,
        [
            data.ids[4].clone(),
            data.ids[4].clone(),
            data.ids[0].clone()
        ]
    );
    assert_eq!(sub.targets, [1.0, 0.25, 1.0, 0.25, 1.0, 0.25]);
}

#[test]
fn split_by_chroms_needs_chromosomes_and_new_checks_shapes() {
    let data = Dataset::new(
        vec!["chr1:1-2".into(), "gata_only_1".into()],
        vec![b"A".to_vec(), b"C".to_vec()],
        vec!["t".into()],
        vec![1.0, 0.0],
    )
    .unwrap();
    assert_msg(
        &message(data.split_by_chroms(&["chr1".into()])),
        "invalid argument to split_by_chroms: 1 records have no chromosome",
        &["'gata_only_1'"],
    );
    assert!(Dataset::new(vec!["a".into()], vec![], vec![], vec![]).is_err());
    assert!(
        message(Dataset::new(
            vec!["a".into()],
            vec![b"A".to_vec()],
            vec!["t".into()],
            vec![2.0]
        ))
        .contains("outside [0, 1]")
    );
    assert!(
        message(Dataset::new(
            vec!["a".into(), "b".into()],
            vec![b"A".to_vec(), b"AC".to_vec()],
            vec![],
            vec![]
        ))
        .contains("record 'b' (record 2) has length 2, expected 1")
    );
}
