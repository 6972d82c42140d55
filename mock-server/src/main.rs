//! `alfaview-mock`: run the mock alfaview server until SIGTERM/SIGINT.
//! See README.md for the flags.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use alfaview_mock::{MockServer, Options, TlsFiles};

const USAGE: &str = "usage: alfaview-mock [--host HOST] [--port PORT] [--port-file PATH] \
[--tls-cert PEM --tls-key PEM] [--config JSON]";

struct Args {
    opts: Options,
    port_file: Option<PathBuf>,
}

fn parse_args(mut it: impl Iterator<Item = String>) -> Result<Option<Args>, String> {
    let mut opts = Options::default();
    let mut port_file = None;
    let (mut cert, mut key) = (None, None);
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        if flag == "--help" || flag == "-h" {
            return Ok(None);
        }
        let known = [
            "--host",
            "--port",
            "--port-file",
            "--tls-cert",
            "--tls-key",
            "--config",
        ];
        if !known.contains(&flag.as_str()) {
            return Err(format!("unknown argument {arg:?}"));
        }
        let value = match inline.or_else(|| it.next()) {
            Some(v) => v,
            None => return Err(format!("{flag} needs a value")),
        };
        match flag.as_str() {
            "--host" => opts.host = value,
            "--port" => {
                opts.port = value
                    .parse()
                    .map_err(|_| format!("--port: not a port number: {value:?}"))?
            }
            "--port-file" => port_file = Some(PathBuf::from(value)),
            "--tls-cert" => cert = Some(PathBuf::from(value)),
            "--tls-key" => key = Some(PathBuf::from(value)),
            _ => {
                let v: serde_json::Value = serde_json::from_str(&value)
                    .map_err(|e| format!("--config: not valid JSON: {e}"))?;
                if !v.is_object() {
                    return Err("--config: expected a JSON object".into());
                }
                opts.config = Some(v);
            }
        }
    }
    opts.tls = match (cert, key) {
        (Some(cert), Some(key)) => Some(TlsFiles { cert, key }),
        (None, None) => None,
        _ => return Err("--tls-cert and --tls-key go together".into()),
    };
    Ok(Some(Args { opts, port_file }))
}

/// Write the port atomically: a temporary file beside PATH, then rename.
fn write_port_file(path: &Path, port: u16) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(".tmp.{}", std::process::id()));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, format!("{port}\n"))?;
    std::fs::rename(&tmp, path).inspect_err(|_| {
        let _ = std::fs::remove_file(&tmp);
    })
}

fn main() -> ExitCode {
    let args = match parse_args(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("alfaview-mock: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let server = match MockServer::start_with(args.opts) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("alfaview-mock: {e}");
            let code = if e.kind() == std::io::ErrorKind::InvalidInput {
                2
            } else {
                1
            };
            return ExitCode::from(code);
        }
    };
    let announce = || {
        if let Some(p) = &args.port_file {
            write_port_file(p, server.port())
                .map_err(|e| std::io::Error::new(e.kind(), format!("--port-file {p:?}: {e}")))?;
        }
        let mut out = std::io::stdout().lock();
        writeln!(out, "{}", server.base_url())?;
        out.flush()
    };
    match server.run_until_signal(announce) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("alfaview-mock: {e}");
            ExitCode::from(1)
        }
    }
}
