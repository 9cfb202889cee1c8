// 1-D convolution and its gradients. Layouts are row-major:
// x (N, C, L), w (F, C, K), b (F), y / dy (N, F, L_out).
// out[n,f,lo] = b[f] + sum_c sum_k w[f,c,k] * x[n, c, lo + k*dilation - pad_left]

struct ConvParams {
    n: u32,
    c: u32,
    l: u32,
    f: u32,
    k: u32,
    l_out: u32,
    pad_left: u32,
    dilation: u32,
    // 1: add to the gradient already in the output (a later batch chunk)
    accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: ConvParams;

// forward: x, w, b -> y
@group(0) @binding(1) var<storage, read> fwd_x: array<f32>;
@group(0) @binding(2) var<storage, read> fwd_w: array<f32>;
@group(0) @binding(3) var<storage, read> fwd_b: array<f32>;
@group(0) @binding(4) var<storage, read_write> fwd_y: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.n * p.f * p.l_out {
        return;
    }
    let lo = i % p.l_out;
    let f = (i / p.l_out) % p.f;
    let n = i / (p.l_out * p.f);
    var acc = fwd_b[f];
    for (var c = 0u; c < p.c; c++) {
        let x_row = (n * p.c + c) * p.l;
        let w_row = (f * p.c + c) * p.k;
        for (var k = 0u; k < p.k; k++) {
            let shifted = lo + k * p.dilation;
            if shifted >= p.pad_left && shifted - p.pad_left < p.l {
                acc += fwd_w[w_row + k] * fwd_x[x_row + shifted - p.pad_left];
            }
        }
    }
    fwd_y[i] = acc;
}

// backward_input: dy, w -> dx (N, C, L)
@group(0) @binding(1) var<storage, read> bi_dy: array<f32>;
@group(0) @binding(2) var<storage, read> bi_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> bi_dx: array<f32>;

@compute @workgroup_size(WG)
fn backward_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.n * p.c * p.l {
        return;
    }
    let pos = i % p.l;
    let c = (i / p.l) % p.c;
    let n = i / (p.l * p.c);
    var acc = 0.0;
    for (var f = 0u; f < p.f; f++) {
        let dy_row = (n * p.f + f) * p.l_out;
        let w_row = (f * p.c + c) * p.k;
        for (var k = 0u; k < p.k; k++) {
            // lo + k*dilation - pad_left == pos
            let shifted_pos = pos + p.pad_left;
            let tap = k * p.dilation;
            if shifted_pos >= tap && shifted_pos - tap < p.l_out {
                acc += bi_dy[dy_row + shifted_pos - tap] * bi_w[w_row + k];
            }
        }
    }
    bi_dx[i] = acc;
}

// backward_weight: x, dy -> dw (F, C, K)
@group(0) @binding(1) var<storage, read> bw_x: array<f32>;
@group(0) @binding(2) var<storage, read> bw_dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> bw_dw: array<f32>;

@compute @workgroup_size(WG)
fn backward_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.f * p.c * p.k {
        return;
    }
    let k = i % p.k;
    let c = (i / p.k) % p.c;
    let f = i / (p.k * p.c);
    let tap = k * p.dilation;
    var acc = 0.0;
    for (var n = 0u; n < p.n; n++) {
        let x_row = (n * p.c + c) * p.l;
        let dy_row = (n * p.f + f) * p.l_out;
        for (var lo = 0u; lo < p.l_out; lo++) {
            let shifted = lo + tap;
            if shifted >= p.pad_left && shifted - p.pad_left < p.l {
                acc += bw_dy[dy_row + lo] * bw_x[x_row + shifted - p.pad_left];
            }
        }
    }
    if p.accumulate != 0u {
        acc += bw_dw[i];
    }
    bw_dw[i] = acc;
}

// backward_bias: dy -> db (F)
@group(0) @binding(1) var<storage, read> bb_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> bb_db: array<f32>;

@compute @workgroup_size(WG)
fn backward_bias(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let f = linear_index(gid, nwg);
    if f >= p.f {
        return;
    }
    var acc = 0.0;
    for (var n = 0u; n < p.n; n++) {
        let dy_row = (n * p.f + f) * p.l_out;
        for (var lo = 0u; lo < p.l_out; lo++) {
            acc += bb_dy[dy_row + lo];
        }
    }
    if p.accumulate != 0u {
        acc += bb_db[f];
    }
    bb_db[f] = acc;
}
