// Optimizer steps (in place) and the curvature constraint.

struct OptParams {
    len: u32,
    lr: f32,
    beta1: f32,
    beta2: f32,
    eps: f32,
    weight_decay: f32,
    // 1 - beta1^t and 1 - beta2^t
    correction1: f32,
    correction2: f32,
}

@group(0) @binding(0) var<uniform> p: OptParams;

@group(0) @binding(1) var<storage, read_write> param: array<f32>;
@group(0) @binding(2) var<storage, read> grad: array<f32>;
@group(0) @binding(3) var<storage, read_write> m1: array<f32>;
@group(0) @binding(4) var<storage, read_write> m2: array<f32>;

@compute @workgroup_size(WG)
fn sgd(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < p.len {
        param[i] -= p.lr * grad[i];
    }
}

// PyTorch's Adam: bias-corrected moments, eps added after the square root.
@compute @workgroup_size(WG)
fn adam(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.len {
        return;
    }
    let w = param[i];
    let g = grad[i] + p.weight_decay * w;
    let m = p.beta1 * m1[i] + (1.0 - p.beta1) * g;
    let v = p.beta2 * m2[i] + (1.0 - p.beta2) * g * g;
    m1[i] = m;
    m2[i] = v;
    param[i] = w - p.lr * (m / p.correction1) / (sqrt(v / p.correction2) + p.eps);
}

// The curvature constraint, one invocation per row of pos (rows, s): second differences
// clipped to [-max, max]; first differences rebuilt by an exclusive running sum and shifted
// to their old mean; values rebuilt the same way and shifted to their old mean.
struct CurvParams {
    rows: u32,
    s: u32,
    max: f32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> cp: CurvParams;
@group(0) @binding(1) var<storage, read> curv_in: array<f32>;
@group(0) @binding(2) var<storage, read_write> curv_out: array<f32>;

// Clipped second difference j of the row starting at base.
fn clipped_d2(base: u32, j: u32) -> f32 {
    let d2 = curv_in[base + j + 2u] - 2.0 * curv_in[base + j + 1u] + curv_in[base + j];
    return clamp(d2, -cp.max, cp.max);
}

@compute @workgroup_size(WG)
fn curvature(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let row = linear_index(gid, nwg);
    if row >= cp.rows {
        return;
    }
    let s = cp.s;
    let base = row * s;
    if s < 3u {
        for (var i = 0u; i < s; i++) {
            curv_out[base + i] = curv_in[base + i];
        }
        return;
    }
    var mean_p = 0.0;
    for (var i = 0u; i < s; i++) {
        mean_p += curv_in[base + i];
    }
    mean_p /= f32(s);
    let mean_d1 = (curv_in[base + s - 1u] - curv_in[base]) / f32(s - 1u);
    // mean of the rebuilt first differences d1'[i] = sum_{j<i} clipped_d2[j], i < s - 1
    var d1 = 0.0;
    var sum_d1 = 0.0;
    for (var i = 0u; i < s - 1u; i++) {
        sum_d1 += d1;
        if i < s - 2u {
            d1 += clipped_d2(base, i);
        }
    }
    let shift_d1 = mean_d1 - sum_d1 / f32(s - 1u);
    // p'[i] = sum_{j<i} (d1'[j] + shift_d1)
    d1 = 0.0;
    var value = 0.0;
    var sum_p = 0.0;
    for (var i = 0u; i < s; i++) {
        curv_out[base + i] = value;
        sum_p += value;
        if i < s - 1u {
            value += d1 + shift_d1;
            if i < s - 2u {
                d1 += clipped_d2(base, i);
            }
        }
    }
    let shift_p = mean_p - sum_p / f32(s);
    for (var i = 0u; i < s; i++) {
        curv_out[base + i] += shift_p;
    }
}
