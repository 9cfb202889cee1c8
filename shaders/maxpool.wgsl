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

// The first and last window covering position pos: o * stride <= pos < o * stride + size and
// o < l_out (first > last when none does).
fn covering(pos: u32) -> vec2<u32> {
    var first = 0u;
    if pos + 1u > p.size {
        first = (pos + 1u - p.size + p.stride - 1u) / p.stride;
    }
    return vec2<u32>(first, min(pos / p.stride, p.l_out - 1u));
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
    let windows = covering(pos);
    var acc = 0.0;
    for (var o = windows.x; o <= windows.y && o < p.l_out; o++) {
        if window_argmax(row_base, o) == pos {
            acc += bwd_dy[row * p.l_out + o];
        }
    }
    bwd_dx[i] = acc;
}

// deeplift: DeepLIFT's multipliers through the pooling on 2 rows halves, inputs then their
// references (Backend::deeplift_maxpool1d); `rows` is one half's. x (2 rows, l), y and dy
// (2 rows, l_out) -> dx (2 rows, l): the input half holds the multipliers, the reference half
// zeros. x is bwd_x, so that window_argmax serves both entries.
@group(0) @binding(2) var<storage, read> dl_y: array<f32>;
@group(0) @binding(3) var<storage, read> dl_dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> dl_dx: array<f32>;

// Below this difference between an input and its reference the ordinary gradient is taken
// (as captum's DeepLift).
const DEEPLIFT_EPS: f32 = 1e-10;

// One invocation per position of the input half: gathers what every window covering it sends
// there, from the input's first maximum and from the reference's; it also clears the
// reference's position.
@compute @workgroup_size(WG)
fn deeplift(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.rows * p.l {
        return;
    }
    let pos = i % p.l;
    let row = i / p.l;
    let ref_row = p.rows + row;
    let windows = covering(pos);
    var received = 0.0;
    var gradient = 0.0;
    for (var o = windows.x; o <= windows.y && o < p.l_out; o++) {
        let g = dl_dy[row * p.l_out + o];
        let yi = dl_y[row * p.l_out + o];
        let yr = dl_y[ref_row * p.l_out + o];
        let m = max(yi, yr);
        if window_argmax(row * p.l, o) == pos {
            received += g * (m - yr);
            gradient += g;
        }
        if window_argmax(ref_row * p.l, o) == pos {
            received += g * (yi - m);
        }
    }
    let delta = bwd_x[i] - bwd_x[p.rows * p.l + i];
    if abs(delta) < DEEPLIFT_EPS {
        dl_dx[i] = gradient;
    } else {
        dl_dx[i] = received / delta;
    }
    dl_dx[p.rows * p.l + i] = 0.0;
}
