//! Every WGSL file parses and validates with naga, so a broken shader fails here on any
//! machine, GPU or not, with naga's message.

use sepfc::backend::gpu::shaders;

#[test]
fn every_shader_parses_and_validates() {
    for shader in shaders() {
        // with group_sum through workgroup memory, and through subgroups where it reduces
        for subgroups in [false, true] {
            let source = shader.source(subgroups);
            let module = naga::front::wgsl::parse_str(&source).unwrap_or_else(|e| {
                panic!(
                    "{}.wgsl does not parse:\n{}",
                    shader.name,
                    e.emit_to_string(&source)
                )
            });
            let capabilities = if subgroups {
                naga::valid::Capabilities::SUBGROUP
            } else {
                naga::valid::Capabilities::default()
            };
            naga::valid::Validator::new(naga::valid::ValidationFlags::all(), capabilities)
                .validate(&module)
                .unwrap_or_else(|e| panic!("{}.wgsl does not validate: {e:?}", shader.name));
            assert!(
                !module.entry_points.is_empty(),
                "{}.wgsl has no entry point",
                shader.name
            );
        }
        // the portable form needs no subgroup capability
        assert_eq!(
            shader.source(false) != shader.source(true),
            shader.reduces(),
            "{}.wgsl",
            shader.name
        );
    }
}

/// The WGSL type name of a scalar member, or a description of what else it is.
fn scalar_name(module: &naga::Module, ty: naga::Handle<naga::Type>) -> String {
    match module.types[ty].inner {
        naga::TypeInner::Scalar(naga::Scalar {
            kind: naga::ScalarKind::Uint,
            width: 4,
        }) => "u32".into(),
        naga::TypeInner::Scalar(naga::Scalar {
            kind: naga::ScalarKind::Float,
            width: 4,
        }) => "f32".into(),
        ref other => format!("{other:?}"),
    }
}

/// Each Rust parameter block has the fields of its WGSL struct, in the same order, at the
/// same offsets, of the same types, and the same size (naga's reflection of the parsed
/// shader); and every uniform a shader declares has a Rust block.
#[test]
fn every_parameter_block_matches_its_wgsl_struct() {
    use sepfc::backend::gpu::params;
    let blocks = params::all();
    for shader in shaders() {
        let module = naga::front::wgsl::parse_str(&shader.source(false)).unwrap();
        // every uniform of the shader is mirrored in Rust
        for (_, var) in module.global_variables.iter() {
            if var.space != naga::AddressSpace::Uniform {
                continue;
            }
            let name = module.types[var.ty].name.clone().unwrap_or_default();
            assert!(
                blocks.iter().any(|b| b.0 == shader.name && b.1 == name),
                "{}.wgsl: uniform struct {name} has no Rust parameter block in backend::gpu::params",
                shader.name
            );
        }
        for &(_, struct_name, fields, size) in blocks.iter().filter(|b| b.0 == shader.name) {
            let (_, ty) = module
                .types
                .iter()
                .find(|(_, t)| t.name.as_deref() == Some(struct_name))
                .unwrap_or_else(|| panic!("{}.wgsl declares no struct {struct_name}", shader.name));
            let naga::TypeInner::Struct { members, span } = &ty.inner else {
                panic!("{}.wgsl: {struct_name} is not a struct", shader.name);
            };
            let wgsl: Vec<(String, usize, String)> = members
                .iter()
                .map(|m| {
                    (
                        m.name.clone().unwrap_or_default(),
                        m.offset as usize,
                        scalar_name(&module, m.ty),
                    )
                })
                .collect();
            let rust: Vec<(String, usize, String)> = fields
                .iter()
                .map(|f| (f.name.to_string(), f.offset, f.scalar.to_string()))
                .collect();
            assert_eq!(
                rust, wgsl,
                "{}.wgsl {struct_name}: Rust fields (left) and WGSL fields (right) differ",
                shader.name
            );
            assert_eq!(
                size, *span as usize,
                "{}.wgsl {struct_name}: sizes differ",
                shader.name
            );
        }
    }
}
