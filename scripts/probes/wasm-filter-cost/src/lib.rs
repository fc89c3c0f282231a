// What a session filter would do at the least on every request: read the Cookie header and set a header.
use proxy_wasm::traits::{Context, HttpContext, RootContext};
use proxy_wasm::types::{Action, ContextType, LogLevel};

proxy_wasm::main! {{
    proxy_wasm::set_log_level(LogLevel::Warn);
    proxy_wasm::set_root_context(|_| -> Box<dyn RootContext> { Box::new(Root) });
}}

struct Root;
impl Context for Root {}
impl RootContext for Root {
    fn create_http_context(&self, _: u32) -> Option<Box<dyn HttpContext>> {
        Some(Box::new(CookieLength))
    }
    fn get_type(&self) -> Option<ContextType> {
        Some(ContextType::HttpContext)
    }
}

struct CookieLength;
impl Context for CookieLength {}
impl HttpContext for CookieLength {
    fn on_http_request_headers(&mut self, _: usize, _: bool) -> Action {
        if let Some(cookie) = self.get_http_request_header("cookie") {
            self.set_http_request_header("x-cookie-length", Some(&cookie.len().to_string()));
        }
        Action::Continue
    }
}
