//! The proxy-wasm adapter: the only code that talks to the host. It maps Envoy's callbacks
//! onto the pure core and never panics: every host call's error is logged and the request
//! continues untouched.

mod host;
mod http;
mod logger;
mod metrics;
mod root;
mod store;
mod timing;

proxy_wasm::main! {{
    logger::init(log::LevelFilter::Info);
    proxy_wasm::set_root_context(|_| -> Box<dyn proxy_wasm::traits::RootContext> {
        Box::new(root::RouterRoot::default())
    });
}}
