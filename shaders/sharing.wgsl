// Weight sharing: reverse-complement filter pairs and mirrored (symmetric / tied) vectors,
// each with its adjoint.

struct ShareParams {
    // rc: stored rows F; mirror: rows R
    rows: u32,
    // rc: values per row (C * K); mirror: full length n
    inner: u32,
    _pad0: u32,
    _pad1: u32,
}

@group(0) @binding(0) var<uniform> p: ShareParams;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

// (F, inner) -> (2F, inner): row F + j is row F - 1 - j reversed.
@compute @workgroup_size(WG)
fn rc_expand(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= 2u * p.rows * p.inner {
        return;
    }
    let row = i / p.inner;
    let col = i % p.inner;
    if row < p.rows {
        dst[i] = src[i];
    } else {
        let j = row - p.rows;
        dst[i] = src[(p.rows - 1u - j) * p.inner + p.inner - 1u - col];
    }
}

// (2F, inner) -> (F, inner): here `rows` is F.
@compute @workgroup_size(WG)
fn rc_fold(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.rows * p.inner {
        return;
    }
    let row = i / p.inner;
    let col = i % p.inner;
    let mirror = 2u * p.rows - 1u - row;
    dst[i] = src[i] + src[mirror * p.inner + p.inner - 1u - col];
}

// (R, ceil(n/2)) -> (R, n), out[r, i] = v[r, min(i, n - 1 - i)]; here `inner` is n.
@compute @workgroup_size(WG)
fn mirror_expand(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    let n = p.inner;
    if i >= p.rows * n {
        return;
    }
    let col = i % n;
    let half = (n + 1u) / 2u;
    dst[i] = src[(i / n) * half + min(col, n - 1u - col)];
}

// (R, n) -> (R, ceil(n/2)): each stored value gathers its one or two mirrored gradients.
@compute @workgroup_size(WG)
fn mirror_fold(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    let n = p.inner;
    let half = (n + 1u) / 2u;
    if i >= p.rows * half {
        return;
    }
    let col = i % half;
    let row_base = (i / half) * n;
    var acc = src[row_base + col];
    let twin = n - 1u - col;
    if twin != col {
        acc += src[row_base + twin];
    }
    dst[i] = acc;
}
