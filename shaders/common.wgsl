// Prepended to every kernel file.

// Invocations per workgroup of the one-dimensional kernels.
const WG: u32 = 64u;

// Linear invocation index over a dispatch that the host splits across x and y when it needs
// more than 65,535 workgroups.
fn linear_index(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
    return gid.x + gid.y * nwg.x * WG;
}

