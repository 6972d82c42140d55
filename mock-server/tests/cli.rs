//! The `alfaview-mock` binary: arguments, the announced URL, the port file, signals.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_alfaview-mock");

fn spawn(args: &[&str]) -> (Child, String) {
    let mut child = Command::new(BIN)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap())
        .read_line(&mut line)
        .unwrap();
    (child, line)
}

fn terminate(mut child: Child, signal: &str) -> std::process::ExitStatus {
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args([signal, &pid])
        .status()
        .unwrap()
        .success());
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            return st;
        }
        assert!(Instant::now() < deadline, "did not exit on {signal}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn port_of(url: &str) -> u16 {
    let rest = url.trim().rsplit_once(':').unwrap().1;
    rest.split('/').next().unwrap().parse().unwrap()
}

#[test]
fn announces_url_writes_port_file_and_stops_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("alfaview-mock-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let port_file = dir.join("port");
    let (child, line) = spawn(&[
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--port-file",
        port_file.to_str().unwrap(),
        "--config",
        r#"{"rotate": true, "cookieStyle": "maxage"}"#,
    ]);
    assert!(
        line.starts_with("http://127.0.0.1:") && line.ends_with("/json/v1/\n"),
        "{line:?}"
    );
    let port = port_of(&line);
    assert_eq!(
        std::fs::read_to_string(&port_file).unwrap(),
        format!("{port}\n")
    );
    assert_eq!(
        std::fs::read_dir(&dir).unwrap().count(),
        1,
        "no temp file left"
    );

    let cfg = get(port, "/_mock/config").json();
    assert_eq!(
        (cfg["rotate"].clone(), cfg["cookieStyle"].clone()),
        (json!(true), json!("maxage"))
    );
    let (_, token) = login_alice(port);
    assert!(refresh(port, &token, "c-100").auth_cookie().is_some());

    let st = terminate(child, "-TERM");
    assert_eq!(st.code(), Some(0));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn tls_and_sigint() {
    let cert = data_file("cert.pem");
    let key = data_file("key.pem");
    let (child, line) = spawn(&[
        "--tls-cert",
        cert.to_str().unwrap(),
        "--tls-key",
        key.to_str().unwrap(),
    ]);
    assert!(line.starts_with("https://127.0.0.1:"), "{line:?}");
    let mut c = Conn::connect_tls(port_of(&line));
    assert_eq!(c.get("/_mock/stats").status, 200);
    assert_eq!(terminate(child, "-INT").code(), Some(0));
}

#[test]
fn bad_arguments_exit_2() {
    for args in [
        &["--nope"][..],
        &["--port"],
        &["--port", "99999"],
        &["--config", "{not json"],
        &["--config", "[1]"],
        &["--config", r#"{"rotate": "sometimes"}"#],
        &["--tls-cert", "x.pem"],
    ] {
        let out = Command::new(BIN).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(out.stdout.is_empty());
        assert!(!out.stderr.is_empty());
    }
    let out = Command::new(BIN)
        .args(["--config", r#"{"rotate": "sometimes"}"#])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("rotate"));
}

#[test]
fn equals_form_and_fixed_port() {
    // Find a free port, then ask for it explicitly.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let (child, line) = spawn(&[&format!("--port={port}")]);
    assert_eq!(line, format!("http://127.0.0.1:{port}/json/v1/\n"));
    assert_eq!(terminate(child, "-TERM").code(), Some(0));
}
