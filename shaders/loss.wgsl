// A training loss on logits, averaged over the unmasked entries: kind 0 binary cross-entropy,
// 1 squared error, 2 Poisson negative log-likelihood on the log rate.
// logits z, targets t, mask m: (N, T) flat, `len` values.

struct LossParams {
    len: u32,
    kind: u32,
    _pad1: u32,
    _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: LossParams;

@group(0) @binding(1) var<storage, read> z: array<f32>;
@group(0) @binding(2) var<storage, read> t: array<f32>;
@group(0) @binding(3) var<storage, read> m: array<f32>;
@group(0) @binding(4) var<storage, read_write> fwd_loss: array<f32>;

@group(0) @binding(4) var<storage, read> bwd_dloss: array<f32>;
@group(0) @binding(5) var<storage, read_write> bwd_dz: array<f32>;

// One entry's term of the loss.
fn term(zi: f32, ti: f32) -> f32 {
    switch p.kind {
        case 1u: {
            return (zi - ti) * (zi - ti);
        }
        case 2u: {
            return exp(zi) - ti * zi;
        }
        default: {
            return max(zi, 0.0) - zi * ti + log(1.0 + exp(-abs(zi)));
        }
    }
}

// The derivative of `term` by the logit.
fn term_gradient(zi: f32, ti: f32) -> f32 {
    switch p.kind {
        case 1u: {
            return 2.0 * (zi - ti);
        }
        case 2u: {
            return exp(zi) - ti;
        }
        default: {
            return 1.0 / (1.0 + exp(-zi)) - ti;
        }
    }
}

@compute @workgroup_size(RWG)
fn forward(lane: Lane) {
    var s = 0.0;
    var c = 0.0;
    for (var i = lane.index; i < p.len; i += RWG) {
        if m[i] != 0.0 {
            s += term(z[i], t[i]);
            c += 1.0;
        }
    }
    let total = group_sum(s, lane);
    let count = group_sum(c, lane);
    if lane.index == 0u {
        fwd_loss[0] = select(0.0, total / count, count > 0.0);
    }
}

@compute @workgroup_size(RWG)
fn backward(lane: Lane) {
    var c = 0.0;
    for (var i = lane.index; i < p.len; i += RWG) {
        c += select(0.0, 1.0, m[i] != 0.0);
    }
    let count = max(group_sum(c, lane), 1.0);
    let scale = bwd_dloss[0] / count;
    for (var i = lane.index; i < p.len; i += RWG) {
        if m[i] != 0.0 {
            bwd_dz[i] = scale * term_gradient(z[i], t[i]);
        } else {
            bwd_dz[i] = 0.0;
        }
    }
}
