// The separable fully connected contraction, factorised: the (U, C, L) weight
// pos[u,l] * chan[u,c] is never formed.
// x (N, C, L), pos (U, L), chan (U, C), y / dy (N, U).
// y[n,u] = sum_l pos[u,l] * sum_c chan[u,c] * x[n,c,l]

struct SepParams {
    n: u32,
    c: u32,
    l: u32,
    u: u32,
    // reduce_params: 1 adds to the gradient already in the output (a later batch chunk)
    accumulate: u32,
    // backward_params: sequences per split, and the number of splits
    span: u32,
    splits: u32,
}

@group(0) @binding(0) var<uniform> p: SepParams;

@group(0) @binding(1) var<storage, read> fwd_x: array<f32>;
@group(0) @binding(2) var<storage, read> fwd_pos: array<f32>;
@group(0) @binding(3) var<storage, read> fwd_chan: array<f32>;
@group(0) @binding(4) var<storage, read_write> fwd_y: array<f32>;

// One workgroup of RWG invocations per output: u is the workgroup's x, n its y.
@compute @workgroup_size(RWG)
fn forward(@builtin(workgroup_id) wid: vec3<u32>, lane: Lane) {
    let u = wid.x;
    let n = wid.y;
    let row = n * p.c * p.l;
    var acc = 0.0;
    for (var e = lane.index; e < p.c * p.l; e += RWG) {
        let c = e / p.l;
        let l = e % p.l;
        acc += fwd_pos[u * p.l + l] * fwd_chan[u * p.c + c] * fwd_x[row + e];
    }
    let y = group_sum(acc, lane);
    if lane.index == 0u {
        fwd_y[n * p.u + u] = y;
    }
}

// backward_params: both parameter gradients in one pass, the batch split into ranges of
// `span` sequences. Workgroup (u, s) sums sequences [s * span, (s + 1) * span) into
// parts[s, u, :] = [dpos[u, 0..L] | dchan[u, 0..C]], where
//   dpos[u,l]  = sum_n dy[n,u] * sum_c chan[u,c] * x[n,c,l]
//   dchan[u,c] = sum_n dy[n,u] * sum_l pos[u,l] * x[n,c,l]
// and reduce_params adds the splits up in order, so results do not depend on scheduling.
@group(0) @binding(1) var<storage, read> bw_x: array<f32>;
@group(0) @binding(2) var<storage, read> bw_pos: array<f32>;
@group(0) @binding(3) var<storage, read> bw_chan: array<f32>;
@group(0) @binding(4) var<storage, read> bw_dy: array<f32>;
@group(0) @binding(5) var<storage, read_write> bw_parts: array<f32>;

@compute @workgroup_size(WG)
fn backward_params(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) t: u32) {
    let u = wid.x;
    let first = wid.y * p.span;
    let last = min(first + p.span, p.n);
    let width = p.l + p.c;
    let out = (wid.y * p.u + u) * width;
    for (var j = t; j < width; j += WG) {
        var acc = 0.0;
        for (var n = first; n < last; n++) {
            var z = 0.0;
            if j < p.l {
                for (var c = 0u; c < p.c; c++) {
                    z += bw_chan[u * p.c + c] * bw_x[(n * p.c + c) * p.l + j];
                }
            } else {
                let row = (n * p.c + j - p.l) * p.l;
                for (var l = 0u; l < p.l; l++) {
                    z += bw_pos[u * p.l + l] * bw_x[row + l];
                }
            }
            acc += bw_dy[n * p.u + u] * z;
        }
        bw_parts[out + j] = acc;
    }
}

// reduce_params: parts (splits, U, L + C) -> dpos (U, L), dchan (U, C)
@group(0) @binding(1) var<storage, read> rp_parts: array<f32>;
@group(0) @binding(2) var<storage, read_write> rp_dpos: array<f32>;
@group(0) @binding(3) var<storage, read_write> rp_dchan: array<f32>;

@compute @workgroup_size(WG)
fn reduce_params(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    let width = p.l + p.c;
    if i >= p.u * width {
        return;
    }
    var acc = 0.0;
    for (var s = 0u; s < p.splits; s++) {
        acc += rp_parts[s * p.u * width + i];
    }
    let unit = i / width;
    let j = i % width;
    if j < p.l {
        let at = unit * p.l + j;
        if p.accumulate != 0u {
            acc += rp_dpos[at];
        }
        rp_dpos[at] = acc;
    } else {
        let at = unit * p.c + j - p.l;
        if p.accumulate != 0u {
            acc += rp_dchan[at];
        }
        rp_dchan[at] = acc;
    }
}

// dx[n,c,l] = sum_u dy[n,u] * pos[u,l] * chan[u,c]
@group(0) @binding(1) var<storage, read> bx_pos: array<f32>;
@group(0) @binding(2) var<storage, read> bx_chan: array<f32>;
@group(0) @binding(3) var<storage, read> bx_dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> bx_dx: array<f32>;

@compute @workgroup_size(WG)
fn backward_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.n * p.c * p.l {
        return;
    }
    let l = i % p.l;
    let c = (i / p.l) % p.c;
    let n = i / (p.l * p.c);
    var acc = 0.0;
    for (var u = 0u; u < p.u; u++) {
        acc += bx_dy[n * p.u + u] * bx_pos[u * p.l + l] * bx_chan[u * p.c + c];
    }
    bx_dx[i] = acc;
}
