// Max pooling along length over rows of x (rows = N * C, L) -> (rows, L_out).
// Each window's maximum is its FIRST largest value, and its gradient goes there.

struct PoolParams {
    rows: u32,
    l: u32,
    l_out: u32,
    size: u32,
    stride: u32,
}

@group(0) @binding(0) var<uniform> p: PoolParams;

@group(0) @binding(1) var<storage, read> fwd_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> fwd_y: array<f32>;

@group(0) @binding(1) var<storage, read> bwd_x: array<f32>;
@group(0) @binding(2) var<storage, read> bwd_dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> bwd_dx: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.rows * p.l_out {
        return;
    }
    let o = i % p.l_out;
    let base = (i / p.l_out) * p.l + o * p.stride;
    var best = fwd_x[base];
    for (var j = 1u; j < p.size; j++) {
        best = max(best, fwd_x[base + j]);
    }
    fwd_y[i] = best;
}

// Position (within the row) of the first maximum of window o of the row starting at row_base.
fn window_argmax(row_base: u32, o: u32) -> u32 {
    let start = o * p.stride;
    var best = start;
    for (var j = start + 1u; j < start + p.size; j++) {
        if bwd_x[row_base + j] > bwd_x[row_base + best] {
            best = j;
        }
    }
    return best;
}

// One invocation per input element: gathers the gradient of every window whose argmax it is.
@compute @workgroup_size(WG)
fn backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.rows * p.l {
        return;
    }
    let pos = i % p.l;
    let row = i / p.l;
    let row_base = row * p.l;
    // windows o with o*stride <= pos < o*stride + size, and o < l_out
    var first = 0u;
    if pos + 1u > p.size {
        first = (pos + 1u - p.size + p.stride - 1u) / p.stride;
    }
    let last = min(pos / p.stride, p.l_out - 1u);
    var acc = 0.0;
    for (var o = first; o <= last && o < p.l_out; o++) {
        if window_argmax(row_base, o) == pos {
            acc += bwd_dy[row * p.l_out + o];
        }
    }
    bwd_dx[i] = acc;
}
