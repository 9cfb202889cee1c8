// DeepLIFT's multipliers through the nonlinear ops, on batches of 2P rows that pair row i < P
// (an input) with row P + i (its reference). The input half of the result holds the
// multipliers, the reference half zeros; both ops fall back to the gradient where an input and
// its reference differ by less than EPS (as captum's DeepLift).

struct DeepLiftParams {
    // rescale: values in one half; maxpool: rows (examples times channels) in one half
    half: u32,
    // rescale: 0 relu, 1 sigmoid
    kind: u32,
    // maxpool: input length, output length, window and step
    l: u32,
    l_out: u32,
    size: u32,
    stride: u32,
}

@group(0) @binding(0) var<uniform> p: DeepLiftParams;

const EPS: f32 = 1e-10;

// rescale: x, y, dy (2 half values) -> dx
@group(0) @binding(1) var<storage, read> rs_x: array<f32>;
@group(0) @binding(2) var<storage, read> rs_y: array<f32>;
@group(0) @binding(3) var<storage, read> rs_dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> rs_dx: array<f32>;

// One invocation per value of the input half; it also clears the reference's.
@compute @workgroup_size(WG)
fn rescale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.half {
        return;
    }
    let x = rs_x[i];
    let delta = x - rs_x[p.half + i];
    var slope: f32;
    if abs(delta) < EPS {
        if p.kind == 0u {
            slope = select(0.0, 1.0, x > 0.0);
        } else {
            let s = rs_y[i];
            slope = s * (1.0 - s);
        }
    } else {
        slope = (rs_y[i] - rs_y[p.half + i]) / delta;
    }
    rs_dx[i] = rs_dy[i] * slope;
    rs_dx[p.half + i] = 0.0;
}

// maxpool: x (2 half, l), y and dy (2 half, l_out) -> dx (2 half, l)
@group(0) @binding(1) var<storage, read> mp_x: array<f32>;
@group(0) @binding(2) var<storage, read> mp_y: array<f32>;
@group(0) @binding(3) var<storage, read> mp_dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> mp_dx: array<f32>;

// Position (within its row) of the first maximum of window o of the row starting at row_base.
fn first_maximum(row_base: u32, o: u32) -> u32 {
    let start = o * p.stride;
    var best = start;
    for (var j = start + 1u; j < start + p.size; j++) {
        if mp_x[row_base + j] > mp_x[row_base + best] {
            best = j;
        }
    }
    return best;
}

// One invocation per position of the input half: gathers what every window covering it sends
// there, from the input's maximum and from the reference's; it also clears the reference's.
@compute @workgroup_size(WG)
fn maxpool(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.half * p.l {
        return;
    }
    let pos = i % p.l;
    let row = i / p.l;
    let ref_row = p.half + row;
    // windows o with o * stride <= pos < o * stride + size, and o < l_out
    var first = 0u;
    if pos + 1u > p.size {
        first = (pos + 1u - p.size + p.stride - 1u) / p.stride;
    }
    let last = min(pos / p.stride, p.l_out - 1u);
    var received = 0.0;
    var gradient = 0.0;
    for (var o = first; o <= last && o < p.l_out; o++) {
        let g = mp_dy[row * p.l_out + o];
        let yi = mp_y[row * p.l_out + o];
        let yr = mp_y[ref_row * p.l_out + o];
        let m = max(yi, yr);
        if first_maximum(row * p.l, o) == pos {
            received += g * (m - yr);
            gradient += g;
        }
        if first_maximum(ref_row * p.l, o) == pos {
            received += g * (yi - m);
        }
    }
    let delta = mp_x[i] - mp_x[p.half * p.l + i];
    if abs(delta) < EPS {
        mp_dx[i] = gradient;
    } else {
        mp_dx[i] = received / delta;
    }
    mp_dx[p.half * p.l + i] = 0.0;
}
