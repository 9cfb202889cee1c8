// 1-D convolution and its gradients as tiled matrix products (implicit im2col: the column
// matrix is never written out, its tiles are gathered straight into workgroup memory).
// Layouts are row-major: x (N, C, L), w (F, C, K), b (F), y / dy (N, F, L_out).
// out[n,f,lo] = b[f] + sum_c sum_k w[f,c,k] * x[n, c, lo + k*dilation - pad_left]
//
// Each workgroup of TS x TS invocations (TS is set per device: 16, or 8 or 4 where the device
// allows fewer invocations or less workgroup memory) computes a TM x TN tile of its product,
// TM = TN = 4 TS, each invocation a 4 x 4 block of it (rows ty + TS i, columns tx + TS j),
// stepping through the reduction TK at a time with both operand tiles in workgroup memory.
//
//   forward:         y  (F, N*L_out)   = w (F, C*K)            x  im2col (C*K, N*L_out)
//   backward_input:  dx (C, N*L)       = w^T gathered (C, F*K) dy gathered (F*K, N*L)
//   backward_weight: [dw | db] (F, C*K + 1) = dy (F, N*L_out)  [x im2col | 1]^T
//   matmul:          c  (M, N)         = a (M, K)              b (K, N), plain row-major
//                    (the device's matrix-product rate, measured beside the convolution)
//
// backward_weight splits its long reduction (over N*L_out) into `splits` fixed ranges of
// `span` entries, one per workgroup z, writing partial sums that reduce_weight adds up in
// order: results do not depend on scheduling.

struct ConvParams {
    n: u32,
    c: u32,
    l: u32,
    f: u32,
    k: u32,
    l_out: u32,
    pad_left: u32,
    dilation: u32,
    // reduce_weight: 1 adds to the gradient already in the output (a later batch chunk)
    accumulate: u32,
    // forward: 1 applies relu after the bias
    relu: u32,
    // first output column of this dispatch (dispatches past 65,535 column tiles are split)
    col0: u32,
    // backward_weight: reduction entries per split, and the number of splits
    span: u32,
    splits: u32,
}

@group(0) @binding(0) var<uniform> p: ConvParams;

const TK: u32 = 16u;
override TM: u32 = 4u * TS;
override TN: u32 = 4u * TS;
// invocations per workgroup
override THREADS: u32 = TS * TS;
// tile entries each invocation loads per operand and step
override LOADS: u32 = TK * TM / THREADS;

var<workgroup> tile_a: array<f32, TK * TM>; // [TK][TM]
var<workgroup> tile_b: array<f32, TK * TN>; // [TK][TN]

// The 4 x 4 block of one invocation.
struct Block {
    v: array<f32, 16>,
}

// Adds tile_a^T tile_b of the current step to `acc` for the invocation at (tx, ty).
fn multiply_tiles(acc: ptr<function, Block>, tx: u32, ty: u32) {
    for (var kk = 0u; kk < TK; kk++) {
        var a: array<f32, 4>;
        var b: array<f32, 4>;
        for (var i = 0u; i < 4u; i++) {
            a[i] = tile_a[kk * TM + ty + TS * i];
            b[i] = tile_b[kk * TN + tx + TS * i];
        }
        for (var i = 0u; i < 4u; i++) {
            for (var j = 0u; j < 4u; j++) {
                (*acc).v[i * 4u + j] += a[i] * b[j];
            }
        }
    }
}

// x[n, c, s - pad_left], or 0 where s - pad_left falls outside 0..L.
fn x_at(n: u32, c: u32, s: u32) -> f32 {
    if s < p.pad_left || s - p.pad_left >= p.l {
        return 0.0;
    }
    return fwd_x[(n * p.c + c) * p.l + s - p.pad_left];
}

// forward: x, w, b -> y
@group(0) @binding(1) var<storage, read> fwd_x: array<f32>;
@group(0) @binding(2) var<storage, read> fwd_w: array<f32>;
@group(0) @binding(3) var<storage, read> fwd_b: array<f32>;
@group(0) @binding(4) var<storage, read_write> fwd_y: array<f32>;

@compute @workgroup_size(TS, TS)
fn forward(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let rows = p.f;
    let cols = p.n * p.l_out;
    let depth = p.c * p.k;
    let m0 = wg.y * TM;
    let j0 = p.col0 + wg.x * TN;
    let t = lid.y * TS + lid.x;
    var acc: Block;
    for (var r0 = 0u; r0 < depth; r0 += TK) {
        for (var q = 0u; q < LOADS; q++) {
            let e = t + THREADS * q;
            // weight rows are contiguous along the reduction
            let mm = e / TK;
            let ka = e % TK;
            var a = 0.0;
            if m0 + mm < rows && r0 + ka < depth {
                a = fwd_w[(m0 + mm) * depth + r0 + ka];
            }
            tile_a[ka * TM + mm] = a;
            // im2col columns are contiguous along the length
            let kb = e / TN;
            let jj = e % TN;
            var b = 0.0;
            if r0 + kb < depth && j0 + jj < cols {
                let r = r0 + kb;
                let j = j0 + jj;
                b = x_at(j / p.l_out, r / p.k, j % p.l_out + (r % p.k) * p.dilation);
            }
            tile_b[kb * TN + jj] = b;
        }
        workgroupBarrier();
        multiply_tiles(&acc, lid.x, lid.y);
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let f = m0 + lid.y + TS * i;
        for (var jb = 0u; jb < 4u; jb++) {
            let j = j0 + lid.x + TS * jb;
            if f < rows && j < cols {
                let n = j / p.l_out;
                let lo = j % p.l_out;
                var v = acc.v[i * 4u + jb] + fwd_b[f];
                if p.relu != 0u {
                    v = max(v, 0.0);
                }
                fwd_y[(n * p.f + f) * p.l_out + lo] = v;
            }
        }
    }
}

// backward_input: dy, w -> dx (N, C, L)
// dx[n,c,pos] = sum_f sum_k w[f,c,k] * dy[n, f, pos + pad_left - k*dilation]
@group(0) @binding(1) var<storage, read> bi_dy: array<f32>;
@group(0) @binding(2) var<storage, read> bi_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> bi_dx: array<f32>;

@compute @workgroup_size(TS, TS)
fn backward_input(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let rows = p.c;
    let cols = p.n * p.l;
    let depth = p.f * p.k;
    let m0 = wg.y * TM;
    let j0 = p.col0 + wg.x * TN;
    let t = lid.y * TS + lid.x;
    var acc: Block;
    for (var r0 = 0u; r0 < depth; r0 += TK) {
        for (var q = 0u; q < LOADS; q++) {
            let e = t + THREADS * q;
            // A[c, (f, k)] = w[f, c, k]: contiguous along k
            let mm = e / TK;
            let ka = e % TK;
            var a = 0.0;
            if m0 + mm < rows && r0 + ka < depth {
                let r = r0 + ka;
                a = bi_w[((r / p.k) * p.c + m0 + mm) * p.k + r % p.k];
            }
            tile_a[ka * TM + mm] = a;
            // B[(f, k), (n, pos)] = dy[n, f, pos + pad_left - k*dilation]: contiguous along pos
            let kb = e / TN;
            let jj = e % TN;
            var b = 0.0;
            if r0 + kb < depth && j0 + jj < cols {
                let r = r0 + kb;
                let j = j0 + jj;
                let n = j / p.l;
                let s = j % p.l + p.pad_left;
                let tap = (r % p.k) * p.dilation;
                if s >= tap && s - tap < p.l_out {
                    b = bi_dy[(n * p.f + r / p.k) * p.l_out + s - tap];
                }
            }
            tile_b[kb * TN + jj] = b;
        }
        workgroupBarrier();
        multiply_tiles(&acc, lid.x, lid.y);
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let c = m0 + lid.y + TS * i;
        for (var jb = 0u; jb < 4u; jb++) {
            let j = j0 + lid.x + TS * jb;
            if c < rows && j < cols {
                bi_dx[((j / p.l) * p.c + c) * p.l + j % p.l] = acc.v[i * 4u + jb];
            }
        }
    }
}

// backward_weight: x, dy -> partial sums (splits, F, C*K + 1) of [dw | db]
@group(0) @binding(1) var<storage, read> bw_x: array<f32>;
@group(0) @binding(2) var<storage, read> bw_dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> bw_parts: array<f32>;

@compute @workgroup_size(TS, TS)
fn backward_weight(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let rows = p.f;
    let cols = p.c * p.k + 1u;
    let depth = p.n * p.l_out;
    let m0 = wg.y * TM;
    let j0 = p.col0 + wg.x * TN;
    let r_start = wg.z * p.span;
    let r_end = min(r_start + p.span, depth);
    let t = lid.y * TS + lid.x;
    var acc: Block;
    for (var r0 = r_start; r0 < r_end; r0 += TK) {
        for (var q = 0u; q < LOADS; q++) {
            let e = t + THREADS * q;
            // both operands are contiguous along the reduction (the length)
            let mm = e / TK;
            let kk = e % TK;
            let r = r0 + kk;
            let n = r / p.l_out;
            let lo = r % p.l_out;
            var a = 0.0;
            if m0 + mm < rows && r < r_end {
                a = bw_dy[(n * p.f + m0 + mm) * p.l_out + lo];
            }
            tile_a[kk * TM + mm] = a;
            var b = 0.0;
            let j = j0 + mm;
            if j < cols && r < r_end {
                if j == cols - 1u {
                    b = 1.0;
                } else {
                    let s = lo + (j % p.k) * p.dilation;
                    if s >= p.pad_left && s - p.pad_left < p.l {
                        b = bw_x[(n * p.c + j / p.k) * p.l + s - p.pad_left];
                    }
                }
            }
            tile_b[kk * TN + mm] = b;
        }
        workgroupBarrier();
        multiply_tiles(&acc, lid.x, lid.y);
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let f = m0 + lid.y + TS * i;
        for (var jb = 0u; jb < 4u; jb++) {
            let j = j0 + lid.x + TS * jb;
            if f < rows && j < cols {
                bw_parts[(wg.z * rows + f) * cols + j] = acc.v[i * 4u + jb];
            }
        }
    }
}

// reduce_weight: partial sums (splits, F, C*K + 1) -> dw (F, C, K), db (F)
@group(0) @binding(1) var<storage, read> rw_parts: array<f32>;
@group(0) @binding(2) var<storage, read_write> rw_dw: array<f32>;
@group(0) @binding(3) var<storage, read_write> rw_db: array<f32>;

@compute @workgroup_size(WG)
fn reduce_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    let cols = p.c * p.k + 1u;
    if i >= p.f * cols {
        return;
    }
    var acc = 0.0;
    for (var s = 0u; s < p.splits; s++) {
        acc += rw_parts[s * p.f * cols + i];
    }
    let f = i / cols;
    let j = i % cols;
    if j == cols - 1u {
        if p.accumulate != 0u {
            acc += rw_db[f];
        }
        rw_db[f] = acc;
    } else {
        if p.accumulate != 0u {
            acc += rw_dw[f * (cols - 1u) + j];
        }
        rw_dw[f * (cols - 1u) + j] = acc;
    }
}

// matmul: a (M, K), b (K, N) -> c (M, N), with M = p.f, K = p.c, N = p.l: the tiled product
// without the convolution's gathers, for the kernel bench.
@group(0) @binding(1) var<storage, read> mm_a: array<f32>;
@group(0) @binding(2) var<storage, read> mm_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> mm_c: array<f32>;

@compute @workgroup_size(TS, TS)
fn matmul(@builtin(workgroup_id) wg: vec3<u32>, @builtin(local_invocation_id) lid: vec3<u32>) {
    let rows = p.f;
    let depth = p.c;
    let cols = p.l;
    let m0 = wg.y * TM;
    let j0 = p.col0 + wg.x * TN;
    let t = lid.y * TS + lid.x;
    var acc: Block;
    for (var r0 = 0u; r0 < depth; r0 += TK) {
        for (var q = 0u; q < LOADS; q++) {
            let e = t + THREADS * q;
            let mm = e / TK;
            let ka = e % TK;
            var a = 0.0;
            if m0 + mm < rows && r0 + ka < depth {
                a = mm_a[(m0 + mm) * depth + r0 + ka];
            }
            tile_a[ka * TM + mm] = a;
            let kb = e / TN;
            let jj = e % TN;
            var b = 0.0;
            if r0 + kb < depth && j0 + jj < cols {
                b = mm_b[(r0 + kb) * cols + j0 + jj];
            }
            tile_b[kb * TN + jj] = b;
        }
        workgroupBarrier();
        multiply_tiles(&acc, lid.x, lid.y);
        workgroupBarrier();
    }
    for (var i = 0u; i < 4u; i++) {
        let m = m0 + lid.y + TS * i;
        for (var jb = 0u; jb < 4u; jb++) {
            let j = j0 + lid.x + TS * jb;
            if m < rows && j < cols {
                mm_c[m * cols + j] = acc.v[i * 4u + jb];
            }
        }
    }
}
