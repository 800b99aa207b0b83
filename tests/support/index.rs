//! A small HTTP server on 127.0.0.1 acting as a Python package index (PEP 503 or 691) and as
//! a proxy, so tests can serve wheels, wrong bytes and wrong hashes without the network.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

/// The proxy variables a client reads: removed from commands that must talk to a local
/// index directly.
pub const PROXY_VARS: &[&str] = &[
    "ALL_PROXY",
    "all_proxy",
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// A response of the local index: status, content type, body.
pub type Reply = (u16, &'static str, Vec<u8>);

/// A local HTTP server; `requests` holds each request's target as received (a proxy gets the
/// absolute URL).
pub struct LocalIndex {
    pub base: String,
    pub requests: Arc<Mutex<Vec<String>>>,
}

impl LocalIndex {
    pub fn start(route: impl Fn(&str) -> Reply + Send + 'static) -> LocalIndex {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let seen = requests.clone();
        std::thread::spawn(move || {
            // A bounded number of connections: each test makes a handful.
            for stream in listener.incoming().take(64) {
                let Ok(mut stream) = stream else { continue };
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                // A proxy is first asked to CONNECT; the request then comes through the tunnel.
                let path = loop {
                    let mut request_line = String::new();
                    if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
                        break None;
                    }
                    let mut line = String::new();
                    while reader.read_line(&mut line).unwrap_or(0) > 0 && line.trim() != "" {
                        line.clear();
                    }
                    let mut words = request_line.split_whitespace();
                    let method = words.next().unwrap_or("").to_string();
                    let target = words.next().unwrap_or("").to_string();
                    seen.lock().unwrap().push(format!("{method} {target}"));
                    if method == "CONNECT" {
                        let _ = stream.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n");
                        continue;
                    }
                    break Some(target);
                };
                let Some(path) = path else { continue };
                let (status, content_type, body) = route(&path);
                let head = format!(
                    "HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes());
                let _ = stream.write_all(&body);
            }
        });
        LocalIndex { base, requests }
    }

    pub fn simple(&self) -> String {
        format!("{}/simple/", self.base)
    }

    pub fn count(&self, needle: &str) -> usize {
        self.requests
            .lock()
            .unwrap()
            .iter()
            .filter(|r| r.contains(needle))
            .count()
    }
}
