//! Where secrets come from: `--secret-stdin`, an environment variable, or a prompt that
//! does not echo — only when standard input is a terminal. Nothing is read from a pipe
//! unless `--secret-stdin` asks for it.
//!
//! Secrets are read byte by byte straight from file descriptor 0 into a buffer allocated
//! once (so it never moves and leaves a copy behind) and wiped unless it becomes the
//! [`Secret`], which wipes itself.

use crate::args::{Topic, UsageError};
use crate::error::CliError;
use alfaview_auth::{Secret, MAX_ARGUMENT_BYTES};
use zeroize::Zeroizing;

/// What is asked for, for messages: "password", "API key secret", "refresh token".
pub struct Wanted<'a> {
    pub what: &'a str,
    pub env: &'a str,
    pub from_stdin: bool,
    /// The help page for a usage error.
    pub topic: Topic,
}

/// Reads the secret from standard input (`--secret-stdin`), the environment variable, or
/// a no-echo prompt; fails with a usage error (64) if none of them can give one.
pub fn read_secret(w: &Wanted<'_>) -> Result<Secret, CliError> {
    if w.from_stdin {
        let line = read_line_from_stdin(false).map_err(|e| {
            CliError::Io(format!(
                "cannot read the {} from standard input: {e}",
                w.what
            ))
        })?;
        return match line {
            Some(s) if !s.is_empty() => Ok(s),
            _ => Err(UsageError::new(
                w.topic,
                format!("--secret-stdin: standard input held no {}", w.what),
            )
            .into()),
        };
    }
    if let Some(value) = std::env::var_os(w.env).filter(|v| !v.is_empty()) {
        return match value.into_string() {
            Ok(s) => Ok(Secret::new(s)),
            Err(raw) => {
                let mut raw = raw.into_encoded_bytes();
                zeroize::Zeroize::zeroize(&mut raw);
                Err(UsageError::new(w.topic, format!("{} is not valid UTF-8", w.env)).into())
            }
        };
    }
    if stdin_is_terminal() {
        let prompt = format!("{}{}: ", w.what[..1].to_uppercase(), &w.what[1..]);
        return match prompt_no_echo(&prompt) {
            Ok(Some(s)) if !s.is_empty() => Ok(s),
            Ok(_) => Err(UsageError::new(w.topic, format!("no {} was typed", w.what)).into()),
            Err(e) => Err(CliError::Io(format!(
                "cannot read the {} from the terminal: {e}",
                w.what
            ))),
        };
    }
    Err(UsageError::new(
        w.topic,
        format!(
            "no {what}: set {env}, or pass --secret-stdin to read it from standard input, or run on a terminal to be prompted (standard input is not a terminal, so nothing is read from it without --secret-stdin)",
            what = w.what,
            env = w.env
        ),
    )
    .into())
}

/// Whether standard input is a terminal.
pub fn stdin_is_terminal() -> bool {
    use std::io::IsTerminal;
    std::io::stdin().is_terminal()
}

/// One line from standard input, without its line ending; `None` at end of input with
/// nothing read. Longer than the library accepts: an error.
fn read_line_from_stdin(terminal: bool) -> std::io::Result<Option<Secret>> {
    let mut buf = Zeroizing::new(Vec::with_capacity(MAX_ARGUMENT_BYTES + 1));
    let mut any = false;
    while let Some(byte) = read_byte()? {
        any = true;
        if byte == b'\n' {
            break;
        }
        if buf.len() == MAX_ARGUMENT_BYTES {
            // Drain the rest of a typed line so it does not reach the shell.
            if terminal {
                while let Some(b) = read_byte()? {
                    if b == b'\n' {
                        break;
                    }
                }
            }
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("longer than {MAX_ARGUMENT_BYTES} bytes"),
            ));
        }
        buf.push(byte);
    }
    if !any {
        return Ok(None);
    }
    if buf.last() == Some(&b'\r') {
        buf.pop();
    }
    // Move the bytes into the String without copying; wipe them if they are not UTF-8.
    match String::from_utf8(std::mem::take(&mut *buf)) {
        Ok(s) => Ok(Some(Secret::new(s))),
        Err(e) => {
            let mut bytes = e.into_bytes();
            zeroize::Zeroize::zeroize(&mut bytes);
            Err(std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                "not valid UTF-8",
            ))
        }
    }
}

#[cfg(unix)]
fn read_byte() -> std::io::Result<Option<u8>> {
    let mut byte = 0u8;
    loop {
        // SAFETY: reads at most one byte into a valid, writable one-byte buffer.
        let n = unsafe { libc::read(0, (&mut byte as *mut u8).cast(), 1) };
        match n {
            1 => return Ok(Some(byte)),
            0 => return Ok(None),
            _ => {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(e);
                }
            }
        }
    }
}

#[cfg(not(unix))]
fn read_byte() -> std::io::Result<Option<u8>> {
    use std::io::Read;
    let mut byte = [0u8];
    match std::io::stdin().lock().read(&mut byte)? {
        0 => Ok(None),
        _ => Ok(Some(byte[0])),
    }
}

/// Turns echo off on the terminal on standard input, writes `prompt` to standard error,
/// reads one line, and restores the terminal — also when the process is interrupted
/// (Ctrl-C, SIGTERM, SIGHUP, SIGQUIT) while waiting.
#[cfg(unix)]
pub fn prompt_no_echo(prompt: &str) -> std::io::Result<Option<Secret>> {
    use std::io::Write;
    let _quiet = unix_tty::EchoOff::new()?;
    let mut err = std::io::stderr().lock();
    err.write_all(prompt.as_bytes())?;
    err.flush()?;
    drop(err);
    read_line_from_stdin(true)
}

#[cfg(not(unix))]
pub fn prompt_no_echo(_prompt: &str) -> std::io::Result<Option<Secret>> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        "no prompt without echo on this system; use the environment variable or --secret-stdin",
    ))
}

#[cfg(unix)]
mod unix_tty {
    use std::ptr;
    use std::sync::atomic::{AtomicPtr, Ordering};

    /// The terminal settings to put back if a signal ends the process mid-prompt.
    static SAVED: AtomicPtr<libc::termios> = AtomicPtr::new(ptr::null_mut());
    const SIGNALS: [libc::c_int; 4] = [libc::SIGINT, libc::SIGTERM, libc::SIGHUP, libc::SIGQUIT];

    extern "C" fn restore_and_reraise(sig: libc::c_int) {
        let saved = SAVED.load(Ordering::SeqCst);
        // SAFETY: tcsetattr, signal and raise are async-signal-safe; `saved` points to
        // a termios that lives until the handlers are uninstalled.
        unsafe {
            if !saved.is_null() {
                libc::tcsetattr(0, libc::TCSANOW, saved);
            }
            libc::signal(sig, libc::SIG_DFL);
            libc::raise(sig);
        }
    }

    /// Echo off on fd 0 while it lives.
    pub struct EchoOff {
        saved: Box<libc::termios>,
        old_actions: Vec<(libc::c_int, libc::sigaction)>,
    }

    impl EchoOff {
        pub fn new() -> std::io::Result<EchoOff> {
            // SAFETY: termios is plain data; tcgetattr fills it or fails.
            let mut saved: Box<libc::termios> = Box::new(unsafe { std::mem::zeroed() });
            if unsafe { libc::tcgetattr(0, &mut *saved) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            SAVED.store(&mut *saved, Ordering::SeqCst);
            let mut old_actions = Vec::with_capacity(SIGNALS.len());
            for sig in SIGNALS {
                // SAFETY: a zeroed sigaction with our handler and an empty mask is valid;
                // the old action is kept to be put back.
                unsafe {
                    let mut action: libc::sigaction = std::mem::zeroed();
                    action.sa_sigaction =
                        restore_and_reraise as extern "C" fn(libc::c_int) as libc::sighandler_t;
                    libc::sigemptyset(&mut action.sa_mask);
                    let mut old: libc::sigaction = std::mem::zeroed();
                    if libc::sigaction(sig, &action, &mut old) == 0 {
                        old_actions.push((sig, old));
                    }
                }
            }
            let guard = EchoOff { saved, old_actions };
            let mut quiet = *guard.saved;
            quiet.c_lflag &= !(libc::ECHO | libc::ECHOE | libc::ECHOK);
            // Still echo the newline, so the next output starts on a line of its own.
            quiet.c_lflag |= libc::ECHONL;
            // TCSANOW, not TCSAFLUSH: keep what was typed ahead.
            if unsafe { libc::tcsetattr(0, libc::TCSANOW, &quiet) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(guard)
        }
    }

    impl Drop for EchoOff {
        fn drop(&mut self) {
            // SAFETY: restores the settings read in `new` and the previous handlers.
            unsafe {
                libc::tcsetattr(0, libc::TCSANOW, &*self.saved);
                for (sig, old) in &self.old_actions {
                    libc::sigaction(*sig, old, ptr::null_mut());
                }
            }
            SAVED.store(ptr::null_mut(), Ordering::SeqCst);
        }
    }
}
