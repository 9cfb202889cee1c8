//! Workgroup shapes and kernel variants chosen for one device from its limits and features,
//! handed to the shaders as pipeline-overridable constants (`WG`, `RWG` and `TS` in
//! `shaders/common.wgsl`).

use crate::{Error, Result};

/// Invocations along each side of the tiled product kernels, most preferred first.
const TILE_SIDES: [u32; 3] = [16, 8, 4];
/// Reduction entries per step of the tiled products (`TK` in `shaders/conv1d.wgsl`).
pub(crate) const TILE_DEPTH: u32 = 16;
/// Invocations per workgroup of the one-dimensional kernels, where the device allows it.
const LINEAR: u32 = 64;
/// Invocations of a reducing workgroup, where the device allows it.
const REDUCTION: u32 = 256;
/// Workgroup arrays of `RWG` floats a reducing kernel declares at most (the loss: its
/// `group_sum` partials).
const REDUCTION_ARRAYS: u32 = 1;

/// What the kernels use on one device.
///
/// ```
/// use sepfc::backend::gpu::Tuning;
/// // a device with WebGPU's default limits and subgroups
/// let t = Tuning::choose(&wgpu::Limits::default(), true).unwrap();
/// assert_eq!((t.linear, t.reduction, t.tile_side, t.subgroups), (64, 256, 16, true));
/// // one that allows 64 invocations and 4 KiB of workgroup memory
/// let small = wgpu::Limits {
///     max_compute_invocations_per_workgroup: 64,
///     max_compute_workgroup_storage_size: 4096,
///     ..wgpu::Limits::default()
/// };
/// let t = Tuning::choose(&small, false).unwrap();
/// assert_eq!((t.linear, t.reduction, t.tile_side), (64, 64, 8));
/// assert_eq!(t.tile(), 32);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tuning {
    /// Invocations per workgroup of the one-dimensional kernels (`WG`).
    pub linear: u32,
    /// Invocations of a workgroup that reduces across itself (`RWG`), a power of two.
    pub reduction: u32,
    /// Invocations along each side of the tiled product kernels' square workgroups (`TS`):
    /// 16, 8 or 4. A workgroup computes a [`Tuning::tile`]-square output tile.
    pub tile_side: u32,
    /// Whether workgroup reductions use subgroup operations (`shaders/group_sum_subgroup.wgsl`)
    /// instead of workgroup memory alone (`shaders/group_sum_portable.wgsl`).
    pub subgroups: bool,
    /// Most workgroups along one dispatch dimension.
    pub max_groups_per_dim: u32,
}

/// Bytes of workgroup memory the tiled product kernels take with `side` invocations a side:
/// two `TK x 4 side` tiles of floats.
pub(crate) fn tile_storage_bytes(side: u32) -> u32 {
    2 * TILE_DEPTH * 4 * side * 4
}

/// The largest power of two at most `n` (`n` >= 1).
fn power_of_two_at_most(n: u32) -> u32 {
    1 << (31 - n.leading_zeros())
}

impl Tuning {
    /// The shapes for a device with `limits`, with subgroup reductions when `subgroups` (the
    /// device has `Features::SUBGROUP` and it was requested). Fails when the device cannot run
    /// even the smallest tiles.
    pub fn choose(limits: &wgpu::Limits, subgroups: bool) -> Result<Self> {
        let invocations = limits.max_compute_invocations_per_workgroup;
        let widest = invocations.min(limits.max_compute_workgroup_size_x);
        let storage = limits.max_compute_workgroup_storage_size;
        let tile_side = TILE_SIDES
            .into_iter()
            .find(|&side| {
                side * side <= invocations
                    && side <= limits.max_compute_workgroup_size_x
                    && side <= limits.max_compute_workgroup_size_y
                    && tile_storage_bytes(side) <= storage
            })
            .ok_or_else(|| Error::NoAdapter(format!(
                "the device allows {invocations} invocations and {storage} bytes of workgroup memory per workgroup; sepfc's kernels need 16 and {}",
                tile_storage_bytes(4)
            )))?;
        let reduction = power_of_two_at_most(
            REDUCTION
                .min(widest)
                .min(storage / (4 * REDUCTION_ARRAYS))
                .max(1),
        );
        Ok(Self {
            linear: power_of_two_at_most(LINEAR.min(widest).max(1)),
            reduction,
            tile_side,
            subgroups,
            max_groups_per_dim: limits.max_compute_workgroups_per_dimension,
        })
    }

    /// Rows and columns of one tiled product workgroup's output tile (`TM`, `TN`).
    pub fn tile(&self) -> u32 {
        4 * self.tile_side
    }

    /// The pipeline constants that set these shapes in every shader.
    pub fn constants(&self) -> [(&'static str, f64); 3] {
        [
            ("WG", f64::from(self.linear)),
            ("RWG", f64::from(self.reduction)),
            ("TS", f64::from(self.tile_side)),
        ]
    }
}

impl std::fmt::Display for Tuning {
    /// E.g. `tiles 64x64 (16x16 invocations), reductions over 256 invocations through
    /// subgroups, 64 invocations a one-dimensional workgroup`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "tiles {tile}x{tile} ({side}x{side} invocations), reductions over {} invocations through {}, {} invocations a one-dimensional workgroup",
            self.reduction,
            if self.subgroups {
                "subgroups"
            } else {
                "workgroup memory"
            },
            self.linear,
            tile = self.tile(),
            side = self.tile_side,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webgpu_defaults_take_the_largest_shapes() {
        let t = Tuning::choose(&wgpu::Limits::default(), false).unwrap();
        assert_eq!(
            (t.linear, t.reduction, t.tile_side, t.tile()),
            (64, 256, 16, 64)
        );
        assert_eq!(t.max_groups_per_dim, 65_535);
    }

    #[test]
    fn fewer_invocations_or_less_memory_take_smaller_shapes() {
        let limits = |invocations, storage| wgpu::Limits {
            max_compute_invocations_per_workgroup: invocations,
            max_compute_workgroup_size_x: invocations,
            max_compute_workgroup_size_y: invocations,
            max_compute_workgroup_storage_size: storage,
            ..wgpu::Limits::default()
        };
        let t = Tuning::choose(&limits(255, 16384), false).unwrap();
        assert_eq!((t.linear, t.reduction, t.tile_side), (64, 128, 8));
        let t = Tuning::choose(&limits(1024, 8191), false).unwrap();
        assert_eq!((t.reduction, t.tile_side), (256, 8));
        let t = Tuning::choose(&limits(16, 2048), false).unwrap();
        assert_eq!((t.linear, t.reduction, t.tile_side), (16, 16, 4));
        assert!(Tuning::choose(&limits(15, 2048), false).is_err());
        assert!(Tuning::choose(&limits(16, 2047), false).is_err());
    }

    #[test]
    fn tile_storage_matches_the_shader_arrays() {
        // tile_a and tile_b: TK * TM floats each
        assert_eq!(tile_storage_bytes(16), 2 * 16 * 64 * 4);
        assert_eq!(tile_storage_bytes(4), 2 * 16 * 16 * 4);
    }
}
