#!/usr/bin/env bash
# From peak calls and a genome to a trained model, a bigWig scan and variant scores, on files
# this script makes so that it runs on a clone alone: `sepfc simulate` plants GATA sites and
# E-boxes in 200 bp sequences, which are laid end to end into a 4-chromosome genome.fa;
# each motif's sequences become its narrowPeak file (summit at the sequence's centre), and
# every planted GATA site on chr4 gets an SNV in its core (plus a control SNV away from the
# sites) in variants.vcf. Then: train on the peaks with GC-matched negatives (chr4 held out),
# scan chr4 into bigWigs, and score the variants.
#
#   examples/peaks_to_variants.sh OUT_DIR        (N=4000 sequences, EPOCHS=10 by default)
#
# With real data, the same three commands take your narrowPeak files, genome (plain or bgzip)
# and VCF: see README.md, "From peaks to variant effects".
set -euo pipefail
out=${1:?usage: examples/peaks_to_variants.sh OUT_DIR}
sepfc=${SEPFC:-sepfc}
n=${N:-4000}
epochs=${EPOCHS:-10}
mkdir -p "$out"
"$sepfc" simulate --out "$out/sim" --n "$n" --length 200 --seed 7 >/dev/null

awk -v out="$out" -v per=$((n / 4)) '
  # one simulated sequence (id, bases): onto the end of its chromosome, with its peaks and SNVs
  function place(id, bases,    chrom, at, is, peak, n_sites, list, s, f, core, ref, alt, ctrl) {
    chrom = "chr" (int(k / per) + 1); k++
    at = length(genome[chrom]); genome[chrom] = genome[chrom] bases
    split(label[id], is, "\t")
    peak = chrom "\t" at + 60 "\t" at + 140 "\t" id "\t0\t.\t1\t-1\t-1\t40"
    if (is[1] == 1) print peak > (out "/gata.narrowPeak")
    if (is[2] == 1) print peak > (out "/ebox.narrowPeak")
    if (chrom != "chr4") return
    n_sites = split(sites[id], list, " ")
    for (s = 1; s <= n_sites; s++) {
      split(list[s], f, ",")                      # motif, start, strand, site
      if (f[1] != "GATA") continue
      core = (f[3] == "+") ? 3 : 4                # the T of GATA, or its complement
      ref = substr(f[4], core + 1, 1)
      alt = (ref == "A") ? "C" : (ref == "C") ? "A" : (ref == "G") ? "T" : "G"
      print chrom "\t" at + f[2] + core + 1 "\tbreak_" id "\t" ref "\t" alt "\t.\tPASS\t." > (out "/records.vcf")
      ctrl = substr(bases, 11, 1)                 # base 10 of the sequence, far from its centre
      alt = (ctrl == "A") ? "C" : (ctrl == "C") ? "A" : (ctrl == "G") ? "T" : "G"
      print chrom "\t" at + 11 "\tcontrol_" id "\t" ctrl "\t" alt "\t.\tPASS\t." > (out "/records.vcf")
    }
  }
  FNR == 1 && file < 3 { file++; next }           # labels.tsv and embeddings.tsv: headers
  FNR == 1 { file++ }
  file == 1 { label[$1] = $2 "\t" $3; next }      # id GATA EBOX
  file == 2 { sites[$1] = sites[$1] " " $2 "," $3 "," $4 "," $5; next }
  /^>/ { if (id != "") place(id, bases); id = substr($1, 2); bases = ""; next }
  { bases = bases $0 }
  END {
    place(id, bases)
    for (c = 1; c <= 4; c++) {
      print ">chr" c > (out "/genome.fa")
      seq = genome["chr" c]
      for (i = 1; i <= length(seq); i += 60) print substr(seq, i, 60) > (out "/genome.fa")
    }
  }
' "$out/sim/labels.tsv" "$out/sim/embeddings.tsv" "$out/sim/sequences.fa"
{
  printf '##fileformat=VCFv4.2\n#CHROM\tPOS\tID\tREF\tALT\tQUAL\tFILTER\tINFO\n'
  cat "$out/records.vcf"
} > "$out/variants.vcf"

cat > "$out/peaks.toml" <<TOML
[data]
genome = "genome.fa"
length = 200
peaks = { gata = "gata.narrowPeak", ebox = "ebox.narrowPeak" }
negatives = { per_positive = 0.5, gc_matched = true, seed = 1 }
valid_chroms = ["chr4"]

[train]
epochs = $epochs
lr = 0.005
batch_size = 128
patience = 3

[[layers]]
type = "revcomp_conv1d"
filters = 16
kernel_size = 15
activation = "relu"

[[layers]]
type = "maxpool1d"
pool_size = 10
stride = 8

[[layers]]
type = "separable_fc"
units = 16
symmetric = true
tie_rc_channels = true
activation = "relu"

[[layers]]
type = "dense"
units = 2
TOML

"$sepfc" train --config "$out/peaks.toml" --out "$out/run" --device cpu
"$sepfc" scan --model "$out/run" --genome "$out/genome.fa" --chrom chr4 --stride 50 \
    --out "$out/chr4.bedgraph" --bigwig --device cpu
"$sepfc" variants --model "$out/run" --genome "$out/genome.fa" --vcf "$out/variants.vcf" \
    --out "$out/variants.tsv" --rc-average --device cpu
# column 8 is gata_logit_diff
awk -F '\t' 'NR > 1 { kind = ($3 ~ /^break_/) ? "GATA core SNVs" : "control SNVs"
                      sum[kind] += $8; count[kind]++ }
             END { for (k in sum) printf "%s: %d, mean GATA logit change %+.3f\n", k, count[k], sum[k] / count[k] }' \
    "$out/variants.tsv" | sort
