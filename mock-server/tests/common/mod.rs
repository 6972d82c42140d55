//! A tiny blocking HTTP/1.1 client over std sockets (and rustls for TLS), just enough
//! to drive the mock through real connections.

#![allow(dead_code)]

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value;

pub trait Stream: Read + Write + Send {}
impl<T: Read + Write + Send> Stream for T {}

pub struct Conn {
    io: BufReader<Box<dyn Stream>>,
}

#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    /// Header names in lower case, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// False if the connection closed before Content-Length bytes arrived.
    pub complete: bool,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {:?}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    /// The value of the `auth` cookie among the Set-Cookie headers.
    pub fn auth_cookie(&self) -> Option<String> {
        self.all("set-cookie").into_iter().find_map(|c| {
            let first = c.split(';').next()?;
            let (name, value) = first.split_once('=')?;
            (name.trim() == "auth").then(|| value.trim().trim_matches('"').to_string())
        })
    }
}

pub fn data_file(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

impl Conn {
    pub fn connect(port: u16) -> Conn {
        Conn::connect_timeout(port, Duration::from_secs(10))
    }

    pub fn connect_tls(port: u16) -> Conn {
        use rustls::pki_types::pem::PemObject;
        use rustls::pki_types::{CertificateDer, ServerName};
        let mut roots = rustls::RootCertStore::empty();
        for c in CertificateDer::pem_file_iter(data_file("ca.pem")).unwrap() {
            roots.add(c.unwrap()).unwrap();
        }
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let cfg = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
        let name = ServerName::try_from("localhost").unwrap();
        let tls = rustls::ClientConnection::new(Arc::new(cfg), name).unwrap();
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        Conn {
            io: BufReader::new(Box::new(rustls::StreamOwned::new(tls, s))),
        }
    }

    /// A plain connection whose reads give up after `t`.
    pub fn connect_timeout(port: u16, t: Duration) -> Conn {
        let s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        s.set_read_timeout(Some(t)).unwrap();
        s.set_nodelay(true).unwrap();
        Conn {
            io: BufReader::new(Box::new(s)),
        }
    }

    pub fn send_raw(&mut self, raw: &[u8]) -> io::Result<Reply> {
        self.io.get_mut().write_all(raw)?;
        self.io.get_mut().flush()?;
        self.read_reply()
    }

    pub fn request(
        &mut self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> io::Result<Reply> {
        let mut req = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for (n, v) in headers {
            req.push_str(&format!("{n}: {v}\r\n"));
        }
        if !body.is_empty() || method == "POST" {
            req.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        req.push_str("\r\n");
        let mut raw = req.into_bytes();
        raw.extend_from_slice(body);
        self.send_raw(&raw)
    }

    pub fn post(&mut self, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
        let mut h = vec![("Content-Type", "application/json")];
        h.extend_from_slice(headers);
        self.request("POST", path, &h, body.to_string().as_bytes())
            .expect("request")
    }

    /// POST that must fail (no reply): the error.
    pub fn post_raw_err(&mut self, path: &str, body: &Value) -> io::Error {
        let h = [("Content-Type", "application/json")];
        match self.request("POST", path, &h, body.to_string().as_bytes()) {
            Ok(r) => panic!("expected no reply, got {r:?}"),
            Err(e) => e,
        }
    }

    pub fn get(&mut self, path: &str) -> Reply {
        self.request("GET", path, &[], b"").expect("request")
    }

    fn read_reply(&mut self) -> io::Result<Reply> {
        let mut line = String::new();
        if self.io.read_line(&mut line)? == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "closed before a reply",
            ));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::new(io::ErrorKind::InvalidData, line.clone()))?;
        let mut headers = Vec::new();
        loop {
            let mut h = String::new();
            self.io.read_line(&mut h)?;
            let h = h.trim_end();
            if h.is_empty() {
                break;
            }
            let (n, v) = h.split_once(':').expect("header line");
            headers.push((n.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
        let len = headers
            .iter()
            .find(|(n, _)| n == "content-length")
            .map(|(_, v)| v.parse::<usize>().unwrap());
        let mut body = Vec::new();
        let complete = match len {
            Some(n) => {
                (&mut self.io).take(n as u64).read_to_end(&mut body)?;
                body.len() == n
            }
            None => {
                self.io.read_to_end(&mut body)?;
                true
            }
        };
        Ok(Reply {
            status,
            headers,
            body,
            complete,
        })
    }
}

pub const AUTH: &str = "/json/v1/authenticationService/authenticate";

pub fn password_login(user: &str, pass: &str, company: Option<&str>) -> Value {
    let mut creds = serde_json::json!({"username": user, "password": pass});
    if let Some(c) = company {
        creds["companyId"] = c.into();
    }
    serde_json::json!({"requestId": "req-login", "usernamePasswordCredentials": creds})
}

pub fn refresh_body(company: &str) -> Value {
    serde_json::json!({"requestId": "req-refresh", "refreshTokenCredentials": {"companyId": company}})
}

/// One request on a fresh connection.
pub fn post(port: u16, path: &str, body: &Value, headers: &[(&str, &str)]) -> Reply {
    Conn::connect(port).post(path, body, headers)
}

pub fn get(port: u16, path: &str) -> Reply {
    Conn::connect(port).get(path)
}

/// Log in as alice (company c-100): (access token, refresh token).
pub fn login_alice(port: u16) -> (String, String) {
    let r = post(
        port,
        AUTH,
        &password_login("alice", "wonderland", None),
        &[],
    );
    assert_eq!(r.status, 200, "{:?}", String::from_utf8_lossy(&r.body));
    let access = r.json()["accessToken"].as_str().unwrap().to_string();
    (access, r.auth_cookie().expect("auth cookie"))
}

pub fn refresh(port: u16, token: &str, company: &str) -> Reply {
    let cookie = format!("auth={token}");
    post(port, AUTH, &refresh_body(company), &[("Cookie", &cookie)])
}

pub fn call(port: u16, path: &str, access: &str) -> Reply {
    let body = serde_json::json!({
        "accessInfo": {"requestId": "req-call", "accessToken": access},
        "room": {"name": "r"},
    });
    post(port, path, &body, &[])
}
