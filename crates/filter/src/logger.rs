//! `log` records to Envoy's log, without the SDK logger's `unwrap` on the host call.

use crate::host;

struct HostLogger;

static LOGGER: HostLogger = HostLogger;

/// Installs the logger once per VM; later calls only change the level.
pub fn init(level: log::LevelFilter) {
    let _ = log::set_logger(&LOGGER);
    log::set_max_level(level);
}

impl log::Log for HostLogger {
    fn enabled(&self, metadata: &log::Metadata) -> bool {
        metadata.level() <= log::max_level()
    }

    fn log(&self, record: &log::Record) {
        if !self.enabled(record.metadata()) {
            return;
        }
        // proxy-wasm levels: trace 0, debug 1, info 2, warn 3, error 4.
        let level = match record.level() {
            log::Level::Trace => 0,
            log::Level::Debug => 1,
            log::Level::Info => 2,
            log::Level::Warn => 3,
            log::Level::Error => 4,
        };
        // Nothing useful can be done when logging itself fails.
        let _ = host::log(level, &format!("tier-router: {}", record.args()));
    }

    fn flush(&self) {}
}
