// Elementwise ops over flat arrays of `len` values.

struct EltParams {
    len: u32,
    // dropout seed
    seed: u32,
    // fill value, scale factor or dropout rate
    a: f32,
    // index of the first element in the whole tensor (dropout masks depend on it)
    base: u32,
}

@group(0) @binding(0) var<uniform> p: EltParams;

@group(0) @binding(1) var<storage, read_write> fill_out: array<f32>;

@group(0) @binding(1) var<storage, read> un_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> un_out: array<f32>;

@group(0) @binding(1) var<storage, read> bin_a: array<f32>;
@group(0) @binding(2) var<storage, read> bin_b: array<f32>;
@group(0) @binding(3) var<storage, read_write> bin_out: array<f32>;

@compute @workgroup_size(WG)
fn fill(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < p.len {
        fill_out[i] = p.a;
    }
}

@compute @workgroup_size(WG)
fn scale(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < p.len {
        un_out[i] = p.a * un_x[i];
    }
}

@compute @workgroup_size(WG)
fn relu(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < p.len {
        un_out[i] = max(un_x[i], 0.0);
    }
}

@compute @workgroup_size(WG)
fn sigmoid(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < p.len {
        un_out[i] = 1.0 / (1.0 + exp(-un_x[i]));
    }
}

// PCG output permutation; the same function as shapes::hash_u32 on the host.
fn hash_u32(x: u32) -> u32 {
    let state = x * 747796405u + 2891136453u;
    let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
    return (word >> 22u) ^ word;
}

// Inverted dropout (also its own backward): keep with probability 1 - rate, scale by 1/(1-rate).
@compute @workgroup_size(WG)
fn dropout(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < p.len {
        let draw = f32(hash_u32(hash_u32((p.base + i) ^ hash_u32(p.seed)) ^ p.seed) >> 8u) * (1.0 / 16777216.0);
        if draw >= p.a {
            un_out[i] = un_x[i] / (1.0 - p.a);
        } else {
            un_out[i] = 0.0;
        }
    }
}

@compute @workgroup_size(WG)
fn add(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < p.len {
        bin_out[i] = bin_a[i] + bin_b[i];
    }
}

// a = x, b = dy
@compute @workgroup_size(WG)
fn relu_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < p.len {
        bin_out[i] = select(0.0, bin_b[i], bin_a[i] > 0.0);
    }
}

// a = y (the forward output), b = dy
@compute @workgroup_size(WG)
fn sigmoid_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i < p.len {
        let y = bin_a[i];
        bin_out[i] = bin_b[i] * y * (1.0 - y);
    }
}
