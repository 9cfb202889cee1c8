// group_sum through subgroup operations: for devices with Features::SUBGROUP. Each subgroup
// adds its values in registers and writes one partial sum; every invocation then adds the
// partial sums in subgroup order. Declares the same names as group_sum_portable.wgsl.

// What an invocation knows of its place in the workgroup and its subgroup.
struct Lane {
    @builtin(local_invocation_index) index: u32,
    @builtin(subgroup_id) subgroup: u32,
    @builtin(num_subgroups) subgroups: u32,
    @builtin(subgroup_invocation_id) in_subgroup: u32,
}

// one partial sum per subgroup; a subgroup has at least one invocation, so RWG suffice
var<workgroup> group_partial: array<f32, RWG>;

// The sum of `v` over the RWG invocations of the workgroup, returned to every one of them.
// Every invocation must call it (it holds barriers).
fn group_sum(v: f32, lane: Lane) -> f32 {
    let within = subgroupAdd(v);
    // earlier readers of group_partial are done before it is overwritten
    workgroupBarrier();
    if lane.in_subgroup == 0u {
        group_partial[lane.subgroup] = within;
    }
    workgroupBarrier();
    var total = 0.0;
    for (var s = 0u; s < lane.subgroups; s++) {
        total += group_partial[s];
    }
    return total;
}
