// The reductions and differences the regularizers need.

struct ReduceParams {
    // mean: number of elements; diff: rows
    len: u32,
    // mean: 0 plain, 1 abs, 2 square; diff: row length of the undifferenced input
    kind: u32,
    // diff: 1 or 2
    order: u32,
    _pad: u32,
}

@group(0) @binding(0) var<uniform> p: ReduceParams;

@group(0) @binding(1) var<storage, read> mean_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> mean_out: array<f32>;

fn transform(v: f32) -> f32 {
    switch p.kind {
        case 1u: { return abs(v); }
        case 2u: { return v * v; }
        default: { return v; }
    }
}

// One workgroup: strided partial sums, then group_sum.
@compute @workgroup_size(RWG)
fn mean(lane: Lane) {
    var acc = 0.0;
    for (var i = lane.index; i < p.len; i += RWG) {
        acc += transform(mean_x[i]);
    }
    let total = group_sum(acc, lane);
    if lane.index == 0u {
        mean_out[0] = total / f32(max(p.len, 1u));
    }
}

@group(0) @binding(1) var<storage, read> mb_x: array<f32>;
@group(0) @binding(2) var<storage, read> mb_dy: array<f32>;
@group(0) @binding(3) var<storage, read_write> mb_dx: array<f32>;

@compute @workgroup_size(WG)
fn mean_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    if i >= p.len {
        return;
    }
    let v = mb_x[i];
    var slope = 1.0;
    if p.kind == 1u {
        slope = sign(v);
    } else if p.kind == 2u {
        slope = 2.0 * v;
    }
    mb_dx[i] = mb_dy[0] / f32(p.len) * slope;
}

// Differences along rows: x (rows, s) -> y (rows, s - order).
@group(0) @binding(1) var<storage, read> diff_x: array<f32>;
@group(0) @binding(2) var<storage, read_write> diff_y: array<f32>;

@compute @workgroup_size(WG)
fn diff(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    let m = p.kind - p.order;
    if i >= p.len * m {
        return;
    }
    let base = (i / m) * p.kind + i % m;
    if p.order == 1u {
        diff_y[i] = diff_x[base + 1u] - diff_x[base];
    } else {
        diff_y[i] = diff_x[base + 2u] - 2.0 * diff_x[base + 1u] + diff_x[base];
    }
}

// Adjoint of diff, as a gather: dy (rows, s - order) -> dx (rows, s).
@group(0) @binding(1) var<storage, read> db_dy: array<f32>;
@group(0) @binding(2) var<storage, read_write> db_dx: array<f32>;

// dy[row, j] if 0 <= j < m, else 0 (j passed shifted by 2 to stay unsigned).
fn dy_at(row: u32, j2: u32, m: u32) -> f32 {
    if j2 < 2u || j2 - 2u >= m {
        return 0.0;
    }
    return db_dy[row * m + j2 - 2u];
}

@compute @workgroup_size(WG)
fn diff_backward(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
    let i = linear_index(gid, nwg);
    let s = p.kind;
    let m = s - p.order;
    if i >= p.len * s {
        return;
    }
    let row = i / s;
    let j2 = i % s + 2u;
    if p.order == 1u {
        // y[j] = x[j+1] - x[j]
        db_dx[i] = dy_at(row, j2 - 1u, m) - dy_at(row, j2, m);
    } else {
        // y[j] = x[j+2] - 2 x[j+1] + x[j]
        db_dx[i] = dy_at(row, j2 - 2u, m) - 2.0 * dy_at(row, j2 - 1u, m) + dy_at(row, j2, m);
    }
}
