//! `tdg review`: serves the review page for a Q&A directory until Ctrl+C, printing its
//! URL (with the token) on stdout.

use std::net::IpAddr;
use std::process::ExitCode;

use anyhow::{Context, Result};
use tdg::cli::ReviewArgs;
use tdg::review::{self, ReviewState};

pub fn run(args: ReviewArgs) -> Result<ExitCode> {
    let token = review::new_token()?;
    let state = ReviewState::open(&args.qa_dir, token)?;
    let loopback = match args.host.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => args.host == "localhost",
    };
    if !loopback {
        tracing::warn!(
            "listening on {}, not only on this machine: anyone who can reach it and learns the URL's token can read and change the pairs",
            args.host
        );
    }
    super::signals::until_signalled(async move |cancel| {
        let listener = tokio::net::TcpListener::bind((args.host.as_str(), args.port))
            .await
            .with_context(|| {
                format!(
                    "cannot listen on {}:{}: choose another --port, or leave it out for a free one",
                    args.host, args.port
                )
            })?;
        let address = listener
            .local_addr()
            .context("cannot read the address the server listens on")?;
        let url = format!("http://{address}/?token={}", state.token());
        tracing::info!(
            "reviewing {} pairs of {}; Ctrl+C stops the server",
            state.pairs(),
            args.qa_dir.display()
        );
        outln!("{url}");
        if args.open {
            open_browser(&url);
        }
        review::serve(listener, state, cancel.cancelled_owned()).await?;
        Ok(ExitCode::SUCCESS)
    })
}

/// Opens `url` in the default browser; says so if it cannot.
fn open_browser(url: &str) {
    let (program, first): (&str, &[&str]) = if cfg!(target_os = "macos") {
        ("open", &[])
    } else if cfg!(windows) {
        ("cmd", &["/C", "start", ""])
    } else {
        ("xdg-open", &[])
    };
    let started = std::process::Command::new(program)
        .args(first)
        .arg(url)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn();
    if let Err(error) = started {
        tracing::warn!("cannot open a browser ({program}: {error}): open the URL above yourself");
    }
}
