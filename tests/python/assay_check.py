"""Independent readings of the files sepfc reads and writes for assay data, for
tests/assay_interop.rs: genome windows through pysam and pyfaidx, bigWig values through
pyBigWig, and correlations through SciPy. Each subcommand prints tab-separated lines.

    windows GENOME REGIONS      one line per region (chrom, start, end; 0-based, half-open):
                                pysam's sequence, then pyfaidx's
    index GENOME                writes GENOME.fai (and GENOME.gzi when bgzip-compressed)
                                with pysam (samtools faidx)
    bigwig FILE.bw              its chromosomes (`#chrom NAME LENGTH`), then every interval
                                (chrom, start, end, value) as pyBigWig reads them
"""

import sys


def windows(genome, regions):
    import pyfaidx
    import pysam

    by_pysam = pysam.FastaFile(genome)
    # pyfaidx keeps the case as in the file, and reads its own index
    by_pyfaidx = pyfaidx.Fasta(genome, sequence_always_upper=False, rebuild=False)
    with open(regions) as f:
        for line in f:
            chrom, start, end = line.split()
            start, end = int(start), int(end)
            a = by_pysam.fetch(chrom, start, end)
            b = str(by_pyfaidx[chrom][start:end])
            print(f"{a}\t{b}")


def index(genome):
    import pysam

    pysam.faidx(genome)


def bigwig(path):
    import pyBigWig

    bw = pyBigWig.open(path)
    assert bw.isBigWig(), path
    chroms = bw.chroms()
    for name, length in chroms.items():
        print(f"#chrom\t{name}\t{length}")
    for name in chroms:
        for start, end, value in bw.intervals(name) or ():
            print(f"{name}\t{start}\t{end}\t{value!r}")


def main():
    command, *args = sys.argv[1:]
    {"windows": windows, "index": index, "bigwig": bigwig}[command](*args)


if __name__ == "__main__":
    main()
