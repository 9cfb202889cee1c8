// DeepLIFT's rescale rule through relu and sigmoid, on batches of 2P rows that pair row i < P
// (an input) with row P + i (its reference). The input half of the result holds the
// multipliers, the reference half zeros; the derivative is taken where an input and its
// reference differ by less than EPS (as captum's DeepLift). The rule through max pooling is
// maxpool.wgsl's `deeplift`, beside the pooling's own argmax.

struct DeepLiftParams {
    // values in one half
    half: u32,
    // 0 relu, 1 sigmoid
    kind: u32,
    _pad0: u32,
    _pad1: u32,
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
