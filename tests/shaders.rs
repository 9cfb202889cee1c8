//! Every WGSL file parses and validates with naga, so a broken shader fails here on any
//! machine, GPU or not, with naga's message.

use sepfc::backend::gpu::shaders;

#[test]
fn every_shader_parses_and_validates() {
    for shader in shaders() {
        let module = naga::front::wgsl::parse_str(shader.source).unwrap_or_else(|e| {
            panic!(
                "{}.wgsl does not parse:\n{}",
                shader.name,
                e.emit_to_string(shader.source)
            )
        });
        naga::valid::Validator::new(
            naga::valid::ValidationFlags::all(),
            naga::valid::Capabilities::default(),
        )
        .validate(&module)
        .unwrap_or_else(|e| panic!("{}.wgsl does not validate: {e:?}", shader.name));
        assert!(
            !module.entry_points.is_empty(),
            "{}.wgsl has no entry point",
            shader.name
        );
    }
}
