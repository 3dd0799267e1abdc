//! An Envoy dynamic module that does the least a body-reading filter must, exactly as the
//! no-op wasm floor (bench/noop-filter): pause the request headers, buffer until the body has
//! ended, then set one request header and continue. It never reads the body bytes, so its cost
//! is the host's: the hook calls, buffering, resuming, and one header write.
//!
//! Every exported function is an event hook Envoy 1.40 resolves with `dlsym` when it loads an
//! HTTP filter config; the ones this filter has no use for are required all the same, and do
//! nothing. No code path here can panic (no allocation, indexing or unwrapping), so nothing can
//! unwind into Envoy.

mod abi;

use abi::{EnvoyBuffer, EnvoyHttpHeader, EnvoyPtr, ModuleBuffer, ModulePtr};

const HEADER_NAME: ModuleBuffer = ModuleBuffer::of(b"x-noop-filter");
const HEADER_VALUE: ModuleBuffer = ModuleBuffer::of(b"1");

/// The filter keeps no state: config and per-stream pointers only need to be non-null (null
/// tells Envoy the creation failed), so both point at this.
static NO_STATE: u8 = 0;

fn no_state() -> ModulePtr {
    std::ptr::addr_of!(NO_STATE).cast()
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_program_init() -> *const std::ffi::c_char {
    abi::ABI_VERSION.as_ptr().cast()
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_new(
    _config_envoy_ptr: EnvoyPtr,
    _name: EnvoyBuffer,
    _config: EnvoyBuffer,
) -> ModulePtr {
    no_state()
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_config_destroy(_config: ModulePtr) {}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_new(
    _config: ModulePtr,
    _filter_envoy_ptr: EnvoyPtr,
) -> ModulePtr {
    no_state()
}

/// Hold the headers while a body follows: they are only sent on once the header is set.
#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_headers(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
    end_of_stream: bool,
) -> u32 {
    if end_of_stream {
        abi::CONTINUE
    } else {
        abi::HEADERS_STOP_ITERATION
    }
}

/// Buffer until the body has ended, then set the header and let the whole request go.
///
/// # Safety
/// Envoy calls it with the live filter `filter_envoy_ptr` it created for this stream.
#[no_mangle]
pub unsafe extern "C" fn envoy_dynamic_module_on_http_filter_request_body(
    filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
    end_of_stream: bool,
) -> u32 {
    if !end_of_stream {
        return abi::BODY_STOP_ITERATION_AND_BUFFER;
    }
    // Ignore a failure, as the wasm floor does: the benchmark checks the header reached the
    // upstream.
    // SAFETY: `filter_envoy_ptr` is the live filter Envoy passed to this hook (see above),
    // and both buffers are 'static.
    let _ = unsafe {
        abi::envoy_dynamic_module_callback_http_set_header(
            filter_envoy_ptr,
            abi::HEADER_TYPE_REQUEST,
            HEADER_NAME,
            HEADER_VALUE,
        )
    };
    abi::CONTINUE
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_request_trailers(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
) -> u32 {
    abi::CONTINUE
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_headers(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
    _end_of_stream: bool,
) -> u32 {
    abi::CONTINUE
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_body(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
    _end_of_stream: bool,
) -> u32 {
    abi::CONTINUE
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_response_trailers(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
) -> u32 {
    abi::CONTINUE
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_stream_complete(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_destroy(_filter: ModulePtr) {}

// Required by Envoy 1.40 though this filter starts no callouts, streams or timers and never
// watches the downstream write buffer.

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_callout_done(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
    _callout_id: u64,
    _result: u32,
    _headers: *const EnvoyHttpHeader,
    _headers_size: usize,
    _body: *const EnvoyBuffer,
    _body_size: usize,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_headers(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
    _stream: u64,
    _headers: *const EnvoyHttpHeader,
    _headers_size: usize,
    _end_stream: bool,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_data(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
    _stream: u64,
    _data: *const EnvoyBuffer,
    _data_count: usize,
    _end_stream: bool,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_trailers(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
    _stream: u64,
    _trailers: *const EnvoyHttpHeader,
    _trailers_size: usize,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_complete(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
    _stream: u64,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_http_stream_reset(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
    _stream: u64,
    _reason: u32,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_scheduled(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
    _event_id: u64,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_downstream_above_write_buffer_high_watermark(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
) {
}

#[no_mangle]
pub extern "C" fn envoy_dynamic_module_on_http_filter_downstream_below_write_buffer_low_watermark(
    _filter_envoy_ptr: EnvoyPtr,
    _filter: ModulePtr,
) {
}
