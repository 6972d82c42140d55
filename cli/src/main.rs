//! `alfaview-auth`: sign in to alfaview, keep the refresh token, print a fresh access
//! token — the library's Rust API on the command line. See `alfaview-auth --help` and
//! cli/README.md.

mod args;
mod cache;
mod commands;
mod error;
mod output;
mod secret_input;

use alfaview_auth::log::{self, Level};
use args::{Command, Topic};
use commands::Ctx;
use error::{report, CliError};
use std::sync::Arc;

fn main() {
    std::process::exit(run());
}

fn run() -> i32 {
    let args = match args::parse(std::env::args_os().skip(1)) {
        Ok(a) => a,
        Err(usage) => {
            let json = std::env::args_os().any(|a| a == "--json");
            let err = CliError::Usage(usage);
            report(&err, Topic::Main, args::DEFAULT_APP_ID, json);
            return err.exit_code();
        }
    };
    let level = match args.global.verbose {
        0 => Level::Error,
        1 => Level::Warn,
        2 => Level::Info,
        3 => Level::Debug,
        _ => Level::Trace,
    };
    log::set_sink(
        Some(Arc::new(|level: Level, message: &str| {
            let name = match level {
                Level::Error => "error",
                Level::Warn => "warning",
                Level::Info => "info",
                Level::Debug => "debug",
                Level::Trace => "trace",
            };
            output::eprint(&format!("alfaview-auth: {name}: {message}\n"));
        })),
        level,
    );

    let ctx = Ctx {
        global: &args.global,
    };
    let topic = topic_of(&args.command);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        dispatch(&ctx, &args.command)
    }));
    let result = match outcome {
        Ok(r) => r,
        Err(_) => Err(CliError::Lib(alfaview_auth::Error::new(
            alfaview_auth::ErrorKind::Internal,
            "internal error (a bug in alfaview-auth; the panic message is above)",
        ))),
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            // A usage error found by a command names that command's page.
            report(&e, topic, &args.global.app_id, args.global.json);
            e.exit_code()
        }
    }
}

fn topic_of(command: &Command) -> Topic {
    match command {
        Command::Login(_) => Topic::Login,
        Command::Refresh(_) => Topic::Refresh,
        Command::Token => Topic::Token,
        Command::Call { .. } => Topic::Call,
        Command::StoreSave { .. } | Command::StoreLoad { .. } | Command::StoreDelete => {
            Topic::Store
        }
        Command::Help(_) | Command::Version => Topic::Main,
    }
}

fn dispatch(ctx: &Ctx<'_>, command: &Command) -> Result<(), CliError> {
    match command {
        Command::Help(topic) => output::print(&topic.help()),
        Command::Version => output::print(&format!(
            "alfaview-auth {} (library alfaview-auth {})\n",
            env!("CARGO_PKG_VERSION"),
            alfaview_auth::VERSION
        )),
        Command::Login(a) => commands::login(ctx, a),
        Command::Refresh(a) => commands::refresh(ctx, a),
        Command::Token => commands::token(ctx),
        Command::Call {
            method,
            body,
            pretty,
        } => commands::call(ctx, method, body.as_ref(), *pretty),
        Command::StoreSave {
            company_id,
            secret_stdin,
        } => commands::store_save(ctx, company_id.as_deref(), *secret_stdin),
        Command::StoreLoad { show_tokens } => commands::store_load(ctx, *show_tokens),
        Command::StoreDelete => commands::store_delete(ctx),
    }
}
