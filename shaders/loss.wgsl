// Binary cross-entropy on logits, averaged over the unmasked entries.
// logits z, targets t, mask m: (N, T) flat, `len` values.

struct LossParams {
    len: u32,
    _pad0: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: LossParams;

const RWG: u32 = 256u;
var<workgroup> sums: array<f32, RWG>;
var<workgroup> counts: array<f32, RWG>;

@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<f32>;
@group(0) @binding(3) var<storage, read> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> fwd_loss: array<f32>;

@group(0) @binding(4) var<storage, read> bwd_dloss: array<f32>;
@group(0) @binding(5) var<storage, read_write> bwd_dz: array<f32>;

// Sums a per-invocation value over the workgroup (all invocations must call it).
fn workgroup_sum(tid: u32, bucket: u32) -> f32 {
    workgroupBarrier();
    for (var half = RWG / 2u; half > 0u; half /= 2u) {
        if tid < half {
            if bucket == 0u {
                sums[tid] += sums[tid + half];
            } else {
                counts[tid] += counts[tid + half];
            }
        }
        workgroupBarrier();
    }
    if bucket == 0u {
        return sums[0];
    }
    return counts[0];
}

@compute @workgroup_size(RWG)
fn forward(@builtin(local_invocation_index) tid: u32) {
    var s = 0.0;
    var c = 0.0;
    for (var i = tid; i < p.len; i += RWG) {
        if m[i] != 0.0 {
            let zi = z[i];
            s += max(zi, 0.0) - zi * t[i] + log(1.0 + exp(-abs(zi)));
            c += 1.0;
        }
    }
    sums[tid] = s;
    counts[tid] = c;
    let total = workgroup_sum(tid, 0u);
    let count = workgroup_sum(tid, 1u);
    if tid == 0u {
        fwd_loss[0] = select(0.0, total / count, count > 0.0);
    }
}

@compute @workgroup_size(RWG)
fn backward(@builtin(local_invocation_index) tid: u32) {
    var c = 0.0;
    for (var i = tid; i < p.len; i += RWG) {
        c += select(0.0, 1.0, m[i] != 0.0);
    }
    counts[tid] = c;
    let count = max(workgroup_sum(tid, 1u), 1.0);
    let scale = bwd_dloss[0] / count;
    for (var i = tid; i < p.len; i += RWG) {
        if m[i] != 0.0 {
            bwd_dz[i] = scale * (1.0 / (1.0 + exp(-z[i])) - t[i]);
        } else {
            bwd_dz[i] = 0.0;
        }
    }
}
