//! The few host calls the filter makes, as functions that return errors instead of panicking.
//!
//! proxy-wasm 0.2.5's `hostcalls` return `Result` but still `panic!` on any status they do not
//! expect, and `get_map_value` unwraps a non-UTF-8 header value; a panic traps the VM and
//! fails every request on that worker. These wrappers declare the same ABI imports and map
//! every status to `Err`, so the filter can log and pass the request through instead.

use std::ptr::{null, null_mut};

/// A proxy-wasm status code other than `Ok` (`NotFound` is mapped to `None` where it means
/// absence).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostError(pub u32);

const OK: u32 = 0;
const NOT_FOUND: u32 = 1;
/// The value changed since it was read (compare-and-swap failed).
pub const CAS_MISMATCH: u32 = 8;

#[derive(Debug, Clone, Copy)]
#[repr(u32)]
// Named as in proxy-wasm's ABI, where every map is a header map.
#[allow(clippy::enum_variant_names)]
pub enum MapType {
    RequestHeaders = 0,
    ResponseHeaders = 2,
    /// The headers of an HTTP callout's answer (in `on_http_call_response`).
    CallResponseHeaders = 6,
}

#[derive(Debug, Clone, Copy)]
#[repr(u32)]
pub enum BufferType {
    RequestBody = 0,
    ResponseBody = 1,
    /// The body of an HTTP callout's answer (in `on_http_call_response`).
    CallResponseBody = 4,
    PluginConfiguration = 7,
}

#[derive(Debug, Clone, Copy)]
#[repr(u32)]
pub enum MetricType {
    Counter = 0,
    Histogram = 2,
}

#[link(wasm_import_module = "env")]
extern "C" {
    fn proxy_log(level: u32, message_data: *const u8, message_size: usize) -> u32;
    fn proxy_get_header_map_pairs(
        map_type: u32,
        return_map_data: *mut *mut u8,
        return_map_size: *mut usize,
    ) -> u32;
    fn proxy_replace_header_map_value(
        map_type: u32,
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_remove_header_map_value(map_type: u32, key_data: *const u8, key_size: usize) -> u32;
    fn proxy_get_buffer_bytes(
        buffer_type: u32,
        start: usize,
        max_size: usize,
        return_buffer_data: *mut *mut u8,
        return_buffer_size: *mut usize,
    ) -> u32;
    fn proxy_set_buffer_bytes(
        buffer_type: u32,
        start: usize,
        size: usize,
        buffer_data: *const u8,
        buffer_size: usize,
    ) -> u32;
    fn proxy_get_property(
        path_data: *const u8,
        path_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
    ) -> u32;
    fn proxy_set_property(
        path_data: *const u8,
        path_size: usize,
        value_data: *const u8,
        value_size: usize,
    ) -> u32;
    fn proxy_call_foreign_function(
        function_name_data: *const u8,
        function_name_size: usize,
        arguments_data: *const u8,
        arguments_size: usize,
        results_data: *mut *mut u8,
        results_size: *mut usize,
    ) -> u32;
    fn proxy_define_metric(
        metric_type: u32,
        name_data: *const u8,
        name_size: usize,
        return_id: *mut u32,
    ) -> u32;
    fn proxy_send_local_response(
        status_code: u32,
        status_code_details_data: *const u8,
        status_code_details_size: usize,
        body_data: *const u8,
        body_size: usize,
        additional_headers_map_data: *const u8,
        additional_headers_size: usize,
        grpc_status: i32,
    ) -> u32;
    fn proxy_set_tick_period_milliseconds(period: u32) -> u32;
    fn proxy_continue_stream(stream_type: u32) -> u32;
    fn proxy_increment_metric(metric_id: u32, offset: i64) -> u32;
    fn proxy_record_metric(metric_id: u32, value: u64) -> u32;
    fn proxy_get_current_time_nanoseconds(return_time: *mut u64) -> u32;
    fn proxy_get_shared_data(
        key_data: *const u8,
        key_size: usize,
        return_value_data: *mut *mut u8,
        return_value_size: *mut usize,
        return_cas: *mut u32,
    ) -> u32;
    fn proxy_set_shared_data(
        key_data: *const u8,
        key_size: usize,
        value_data: *const u8,
        value_size: usize,
        cas: u32,
    ) -> u32;
}

fn check(status: u32) -> Result<(), HostError> {
    if status == OK {
        Ok(())
    } else {
        Err(HostError(status))
    }
}

/// Takes ownership of bytes the host allocated through the SDK's `proxy_on_memory_allocate`
/// (a `Vec` with capacity == length).
///
/// # Safety
/// `data` must be null or a pointer the host returned for exactly `size` bytes.
unsafe fn take_host_bytes(data: *mut u8, size: usize) -> Vec<u8> {
    if data.is_null() {
        Vec::new()
    } else {
        Vec::from_raw_parts(data, size, size)
    }
}

pub fn log(level: u32, message: &str) -> Result<(), HostError> {
    // SAFETY: pointer and length describe a live &str.
    check(unsafe { proxy_log(level, message.as_ptr(), message.len()) })
}

/// A whole header map in proxy-wasm's serialisation (decoded by `wire::header_pairs`): one
/// host call instead of one per header.
pub fn header_pairs(map: MapType) -> Result<Vec<u8>, HostError> {
    let mut data = null_mut();
    let mut size = 0;
    // SAFETY: the host writes a pointer/length pair it allocated, or nothing.
    let status = unsafe { proxy_get_header_map_pairs(map as u32, &mut data, &mut size) };
    match status {
        // SAFETY: on OK, data/size come from the host allocation.
        OK => Ok(unsafe { take_host_bytes(data, size) }),
        NOT_FOUND => Ok(Vec::new()),
        other => Err(HostError(other)),
    }
}

pub fn set_header(map: MapType, name: &str, value: &str) -> Result<(), HostError> {
    // SAFETY: pointers and lengths describe live &strs.
    check(unsafe {
        proxy_replace_header_map_value(
            map as u32,
            name.as_ptr(),
            name.len(),
            value.as_ptr(),
            value.len(),
        )
    })
}

pub fn remove_header(map: MapType, name: &str) -> Result<(), HostError> {
    // SAFETY: pointer and length describe a live &str.
    match unsafe { proxy_remove_header_map_value(map as u32, name.as_ptr(), name.len()) } {
        OK | NOT_FOUND => Ok(()),
        other => Err(HostError(other)),
    }
}

/// `max_size` bytes of a buffer from `start`; empty when the buffer is absent.
pub fn buffer(kind: BufferType, start: usize, max_size: usize) -> Result<Vec<u8>, HostError> {
    let mut data = null_mut();
    let mut size = 0;
    // SAFETY: the host writes a pointer/length pair it allocated, or nothing.
    let status =
        unsafe { proxy_get_buffer_bytes(kind as u32, start, max_size, &mut data, &mut size) };
    match status {
        // SAFETY: on OK, data/size come from the host allocation.
        OK => Ok(unsafe { take_host_bytes(data, size) }),
        NOT_FOUND => Ok(Vec::new()),
        other => Err(HostError(other)),
    }
}

/// Replaces `size` bytes from `start` with `value`.
pub fn set_buffer(
    kind: BufferType,
    start: usize,
    size: usize,
    value: &[u8],
) -> Result<(), HostError> {
    // SAFETY: pointer and length describe a live slice.
    check(unsafe { proxy_set_buffer_bytes(kind as u32, start, size, value.as_ptr(), value.len()) })
}

/// An Envoy attribute (`["source", "address"]`); `None` when absent. Envoy splits the path
/// on NUL bytes, one segment per name.
pub fn property(path: &[&str]) -> Result<Option<Vec<u8>>, HostError> {
    let joined = path.join("\0");
    let mut data = null_mut();
    let mut size = 0;
    // SAFETY: pointer and length describe a live String; the host writes a pointer/length
    // pair it allocated, or nothing.
    let status = unsafe { proxy_get_property(joined.as_ptr(), joined.len(), &mut data, &mut size) };
    match status {
        // SAFETY: on OK, data/size come from the host allocation.
        OK => Ok(Some(unsafe { take_host_bytes(data, size) })),
        NOT_FOUND => Ok(None),
        other => Err(HostError(other)),
    }
}

/// Sets filter state `wasm.<name>` (one path segment: several would be joined with NUL).
pub fn set_property(name: &str, value: &[u8]) -> Result<(), HostError> {
    // SAFETY: pointers and lengths describe live slices.
    check(unsafe { proxy_set_property(name.as_ptr(), name.len(), value.as_ptr(), value.len()) })
}

/// Calls an Envoy foreign function and discards its result.
pub fn call_foreign(name: &str, args: &[u8]) -> Result<(), HostError> {
    let mut data = null_mut();
    let mut size = 0;
    let args_data = if args.is_empty() {
        null()
    } else {
        args.as_ptr()
    };
    // SAFETY: pointers and lengths describe live slices; the host writes a pointer/length
    // pair it allocated, or nothing.
    let status = unsafe {
        proxy_call_foreign_function(
            name.as_ptr(),
            name.len(),
            args_data,
            args.len(),
            &mut data,
            &mut size,
        )
    };
    // SAFETY: data/size come from the host allocation (or are null/0).
    drop(unsafe { take_host_bytes(data, size) });
    check(status)
}

/// Answers the request with a local reply (`headers` in proxy-wasm's map serialisation,
/// `wire::serialize_pairs`); `details` becomes Envoy's response code details.
pub fn send_http_response(
    status: u32,
    details: &str,
    headers: &[u8],
    body: &[u8],
) -> Result<(), HostError> {
    // SAFETY: pointers and lengths describe live slices; -1 means no gRPC status.
    check(unsafe {
        proxy_send_local_response(
            status,
            details.as_ptr(),
            details.len(),
            body.as_ptr(),
            body.len(),
            headers.as_ptr(),
            headers.len(),
            -1,
        )
    })
}

pub fn define_metric(kind: MetricType, name: &str) -> Result<u32, HostError> {
    let mut id = 0;
    // SAFETY: pointer and length describe a live &str; the host writes one u32.
    check(unsafe { proxy_define_metric(kind as u32, name.as_ptr(), name.len(), &mut id) })?;
    Ok(id)
}

/// Asks for `on_tick` every `period_ms` on this VM's root context.
pub fn set_tick_period_ms(period_ms: u32) -> Result<(), HostError> {
    // SAFETY: a plain value.
    check(unsafe { proxy_set_tick_period_milliseconds(period_ms) })
}

pub fn increment_metric(id: u32, offset: i64) -> Result<(), HostError> {
    // SAFETY: plain values.
    check(unsafe { proxy_increment_metric(id, offset) })
}

pub fn record_metric(id: u32, value: u64) -> Result<(), HostError> {
    // SAFETY: plain values.
    check(unsafe { proxy_record_metric(id, value) })
}

/// The proxy's clock, in nanoseconds since the Unix epoch.
pub fn now_ns() -> Result<u64, HostError> {
    let mut now = 0;
    // SAFETY: the host writes one u64.
    check(unsafe { proxy_get_current_time_nanoseconds(&mut now) })?;
    Ok(now)
}

/// A shared-data value and its CAS token; `None` when absent.
pub fn shared_data(key: &str) -> Result<Option<(Vec<u8>, u32)>, HostError> {
    let mut data = null_mut();
    let mut size = 0;
    let mut cas = 0;
    // SAFETY: the host writes a pointer/length pair it allocated, or nothing, and one u32.
    let status =
        unsafe { proxy_get_shared_data(key.as_ptr(), key.len(), &mut data, &mut size, &mut cas) };
    match status {
        // SAFETY: on OK, data/size come from the host allocation.
        OK => Ok(Some((unsafe { take_host_bytes(data, size) }, cas))),
        NOT_FOUND => Ok(None),
        other => Err(HostError(other)),
    }
}

/// Sets a shared-data value; `cas` 0 writes unconditionally.
pub fn set_shared_data(key: &str, value: &[u8], cas: u32) -> Result<(), HostError> {
    // SAFETY: pointers and lengths describe live slices.
    check(unsafe {
        proxy_set_shared_data(key.as_ptr(), key.len(), value.as_ptr(), value.len(), cas)
    })
}

#[link(wasm_import_module = "wasi_snapshot_preview1")]
extern "C" {
    fn random_get(buf: *mut u8, buf_len: usize) -> i32;
}

/// `N` random bytes from the host (WASI `random_get`; Envoy answers it with BoringSSL's
/// `RAND_bytes`, up to 64 KiB a call). The error is the WASI errno.
pub fn random_bytes<const N: usize>() -> Result<[u8; N], HostError> {
    let mut bytes = [0u8; N];
    // SAFETY: the host writes exactly `N` bytes into the live array.
    match unsafe { random_get(bytes.as_mut_ptr(), N) } {
        0 => Ok(bytes),
        errno => Err(HostError(errno as u32)),
    }
}

/// Resumes the response held by returning `Pause` (proxy-wasm stream type 1: the HTTP
/// response).
pub fn resume_response() -> Result<(), HostError> {
    // SAFETY: no pointers.
    check(unsafe { proxy_continue_stream(1) })
}

/// Starts an HTTP callout to `cluster` (`headers` need `:method`, `:path`, `:authority`);
/// the answer arrives in `on_http_call_response` with the returned token. This one goes
/// through the SDK, which must register the token to route the answer to this context; its
/// `panic!` is only for statuses Envoy's `httpCall` never returns (it returns `Ok`,
/// `BadArgument` for an unknown cluster or missing headers, `InternalFailure`).
pub fn dispatch_call(
    cluster: &str,
    headers: Vec<(&str, &str)>,
    body: &[u8],
    timeout_ms: u64,
) -> Result<u32, HostError> {
    let timeout = std::time::Duration::from_millis(timeout_ms);
    proxy_wasm::hostcalls::dispatch_http_call(cluster, headers, Some(body), vec![], timeout)
        .map_err(|status| HostError(status as u32))
}
