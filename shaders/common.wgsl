// Prepended to every kernel file.

// Workgroup shapes, chosen per device by the host (src/backend/gpu/tuning.rs) and set as
// pipeline constants; the defaults are what every WebGPU device supports.
// Invocations per workgroup of the one-dimensional kernels.
override WG: u32 = 64u;
// Invocations of a workgroup that reduces (group_sum), a power of two.
override RWG: u32 = 256u;
// Invocations along each side of the tiled product kernels' square workgroups: 4, 8 or 16.
override TS: u32 = 16u;

// Linear invocation index over a dispatch that the host splits across x and y when it needs
// more than the device's workgroups per dimension.
fn linear_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}
