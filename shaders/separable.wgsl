// The separable fully connected contraction, factorised: the (U, C, L) weight
// pos[u,l] * chan[u,c] is never formed.
// x (N, C, L), pos (U, L), chan (U, C), y / dy (N, U).
// y[n,u] = sum_l pos[u,l] * sum_c chan[u,c] * x[n,c,l]

struct SepParams {
    n: u32,
    c: u32,
    l: u32,
    u: u32,
    // 1: add to the gradient already in the output (a later batch chunk)
    accumulate: u32,
}

@group(0) @binding(0) var<uniform> p: SepParams;

@group(0) @binding(1) var<storage, read> fwd_x: array<f32>;
@group(0) @binding(2) var<storage, read> fwd_pos: array<f32>;
@group(0) @binding(3) var<storage, read> fwd_chan: array<f32>;
@group(0) @binding(4) var<storage, read_write> fwd_y: array<f32>;

@compute @workgroup_size(WG)
fn forward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.n * p.u {
        return;
    }
    let u = i % p.u;
    let n = i / p.u;
    var acc = 0.0;
    for (var l = 0u; l < p.l; l++) {
        var z = 0.0;
        for (var c = 0u; c < p.c; c++) {
            z += fwd_chan[u * p.c + c] * fwd_x[(n * p.c + c) * p.l + l];
        }
        acc += fwd_pos[u * p.l + l] * z;
    }
    fwd_y[i] = acc;
}

// dpos[u,l] = sum_n dy[n,u] * sum_c chan[u,c] * x[n,c,l]
@group(0) @binding(1) var<storage, read> bp_x: array<f32>;
@group(0) @binding(2) var<storage, read> bp_chan: array<f32>;
@group(0) @binding(3) var<storage, read> bp_dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> bp_dpos: array<f32>;

@compute @workgroup_size(WG)
fn backward_pos(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.u * p.l {
        return;
    }
    let l = i % p.l;
    let u = i / p.l;
    var acc = 0.0;
    for (var n = 0u; n < p.n; n++) {
        var z = 0.0;
        for (var c = 0u; c < p.c; c++) {
            z += bp_chan[u * p.c + c] * bp_x[(n * p.c + c) * p.l + l];
        }
        acc += bp_dy[n * p.u + u] * z;
    }
    if p.accumulate != 0u {
        acc += bp_dpos[i];
    }
    bp_dpos[i] = acc;
}

// dchan[u,c] = sum_n dy[n,u] * sum_l pos[u,l] * x[n,c,l]
@group(0) @binding(1) var<storage, read> bc_x: array<f32>;
@group(0) @binding(2) var<storage, read> bc_pos: array<f32>;
@group(0) @binding(3) var<storage, read> bc_dy: array<f32>;
@group(0) @binding(4) var<storage, read_write> bc_dchan: array<f32>;

@compute @workgroup_size(WG)
fn backward_chan(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.u * p.c {
        return;
    }
    let c = i % p.c;
    let u = i / p.c;
    var acc = 0.0;
    for (var n = 0u; n < p.n; n++) {
        var s = 0.0;
        let x_row = (n * p.c + c) * p.l;
        for (var l = 0u; l < p.l; l++) {
            s += bc_pos[u * p.l + l] * bc_x[x_row + l];
        }
        acc += bc_dy[n * p.u + u] * s;
    }
    if p.accumulate != 0u {
        acc += bc_dchan[i];
    }
    bc_dchan[i] = acc;
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
