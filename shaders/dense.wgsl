// Dense layer y = x w^T + b and its gradients.
// x (N, I), w (O, I), b (O), y / dy (N, O).

struct DenseParams {
    n: u32,
    i: u32,
    o: u32,
    // 1: add to the gradient already in the output (a later batch chunk)
    accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: DenseParams;

@group(0) @binding(1) var<storage, read> fwd_x: array<f32>;
@group(0) @binding(2) var<storage, read> fwd_w: array<f32>;
@group(0) @binding(3) var<storage, read> fwd_b: array<f32>;
@group(0) @binding(4) var<storage, read_write> fwd_y: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = linear_index(gid, nwg);
    if t >= p.n * p.o {
        return;
    }
    let o = t % p.o;
    let n = t / p.o;
    var acc = 0.0;
    for (var i = 0u; i < p.i; i++) {
        acc += fwd_x[n * p.i + i] * fwd_w[o * p.i + i];
    }
    fwd_y[t] = acc + fwd_b[o];
}

// dx[n,i] = sum_o dy[n,o] w[o,i]
@group(0) @binding(1) var<storage, read> bx_dy: array<f32>;
@group(0) @binding(2) var<storage, read> bx_w: array<f32>;
@group(0) @binding(3) var<storage, read_write> bx_dx: array<f32>;

@compute @workgroup_size(WG)
fn backward_input(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = linear_index(gid, nwg);
    if t >= p.n * p.i {
        return;
    }
    let i = t % p.i;
    let n = t / p.i;
    var acc = 0.0;
    for (var o = 0u; o < p.o; o++) {
        acc += bx_dy[n * p.o + o] * bx_w[o * p.i + i];
    }
    bx_dx[t] = acc;
}

// dw[o,i] = sum_n dy[n,o] x[n,i]
@group(0) @binding(1) var<storage, read> bw_x: array<f32>;
@group(0) @binding(2) var<storage, read> bw_dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> bw_dw: array<f32>;

@compute @workgroup_size(WG)
fn backward_weight(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let t = linear_index(gid, nwg);
    if t >= p.o * p.i {
        return;
    }
    let i = t % p.i;
    let o = t / p.i;
    var acc = 0.0;
    for (var n = 0u; n < p.n; n++) {
        acc += bw_dy[n * p.o + o] * bw_x[n * p.i + i];
    }
    if p.accumulate != 0u {
        acc += bw_dw[t];
    }
    bw_dw[t] = acc;
}

// db[o] = sum_n dy[n,o]
@group(0) @binding(1) var<storage, read> bb_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> bb_db: array<f32>;

@compute @workgroup_size(WG)
fn backward_bias(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let o = linear_index(gid, nwg);
    if o >= p.o {
        return;
    }
    var acc = 0.0;
    for (var n = 0u; n < p.n; n++) {
        acc += bb_dy[n * p.o + o];
    }
    if p.accumulate != 0u {
        acc += bb_db[o];
    }
    bb_db[o] = acc;
}
