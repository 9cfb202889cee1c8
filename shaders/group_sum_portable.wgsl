// group_sum through workgroup memory alone: for devices without subgroup operations.
// Prepended (after common.wgsl) to the kernels that reduce across a workgroup; the subgroup
// form in group_sum_subgroup.wgsl declares the same two names.

// What an invocation knows of its place in the workgroup.
struct Lane {
    @builtin(local_invocation_index) index: u32,
}

var<workgroup> group_partial: array<f32, RWG>;

// The sum of `v` over the RWG invocations of the workgroup, returned to every one of them.
// Every invocation must call it (it holds barriers); the order of additions is fixed.
fn group_sum(v: f32, lane: Lane) -> f32 {
    // earlier readers of group_partial are done before it is overwritten
    workgroupBarrier();
    group_partial[lane.index] = v;
    workgroupBarrier();
    for (var half = RWG / 2u; half > 0u; half /= 2u) {
        if lane.index < half {
            group_partial[lane.index] += group_partial[lane.index + half];
        }
        workgroupBarrier();
    }
    return group_partial[0];
}
