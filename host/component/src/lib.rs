//! The walogs engine (`guest/`) built for `wasm32-wasip2` into a WASI Preview 2 component.
//!
//! The build script runs a nested `cargo build` of the guest crate and this crate embeds the
//! result, so depending on it needs the `wasm32-wasip2` target installed. A host that brings
//! its own component bytes does not depend on this crate (see the `embedded` feature of
//! `walogs-host`). Setting `WALOGS_COMPONENT_WASM` at build time embeds that file instead.
#![deny(missing_docs)]

/// The component's bytes: a `.wasm` component exporting `walogs:wal/log`.
pub const WASM: &[u8] = include_bytes!(env!("WALOGS_COMPONENT_WASM"));

/// Where the build left the component file (for tools that take a path).
pub const PATH: &str = env!("WALOGS_COMPONENT_WASM");

#[cfg(test)]
mod tests {
    #[test]
    fn the_embedded_bytes_are_a_component() {
        // A component's preamble: the wasm magic, then the component-model layer marker.
        assert_eq!(&super::WASM[..4], b"\0asm");
        assert_eq!(&super::WASM[6..8], &[1, 0], "layer 1 = component");
    }
}
