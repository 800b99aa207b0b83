//! The commands about installing and running the tool itself: `fetch` (fill the wheel cache
//! ahead of time), `completions SHELL`, `man`; and the stderr display of a wheel download.
//! None of these opens a project.

use std::sync::{Arc, Mutex};

use clap::CommandFactory;
use serde_json::json;

use alembic_engine::project::{FetchEvent, FetchObserver, Locator};

use crate::cli::{Cli, Command, Format};
use crate::{BoxError, Output};

/// The download options of the global flags, and the stderr display of a download.
pub fn locator(cli: &Cli) -> Locator {
    Locator {
        scripts: cli.scripts.clone(),
        version_locations: cli.version_locations.clone(),
        cache_dir: cli.cache_dir.clone(),
        ignore_installed: cli.ignore_installed,
        index_url: cli.index_url.clone(),
        offline: cli.offline,
        release: cli.scripts_from_release.clone(),
        sqlalchemy: cli.sqlalchemy,
        // `--quiet`: nothing but errors, downloads included.
        observer: if cli.quiet {
            FetchObserver::default()
        } else {
            stderr_observer()
        },
    }
}

/// Runs the commands that need no project; `None` for every other command.
pub fn run_without_project(cli: &Cli, out: &mut Output) -> Option<Result<(), BoxError>> {
    match &cli.command {
        Command::Fetch => Some(fetch(cli, out)),
        Command::Completions { shell } => {
            let mut buf = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "mlflow-migrate", &mut buf);
            out.raw(&String::from_utf8_lossy(&buf));
            Some(Ok(()))
        }
        Command::Man => {
            let mut buf = Vec::new();
            let rendered = clap_mangen::Man::new(Cli::command()).render(&mut buf);
            out.raw(&String::from_utf8_lossy(&buf));
            Some(rendered.map_err(Into::into))
        }
        _ => None,
    }
}

fn fetch(cli: &Cli, out: &mut Output) -> Result<(), BoxError> {
    let cache = locator(cli).fetch()?;
    if cli.format == Format::Json {
        let value = json!({
            "cache_dir": cache.dir,
            "wheel": cache.wheel,
            "unpacked": cache.unpacked,
        });
        out.json(value);
    } else {
        out.line(format!(
            "cache ready in {}: {} (sha256 checked), unpacked in {}",
            cache.dir.display(),
            cache.wheel.display(),
            cache.unpacked.display()
        ));
    }
    Ok(())
}

/// One line per download and repair on stderr; a progress bar while bytes arrive on a
/// terminal (indicatif draws nothing when stderr is not one).
fn stderr_observer() -> FetchObserver {
    let bar: Arc<Mutex<Option<indicatif::ProgressBar>>> = Arc::default();
    FetchObserver::new(move |event| {
        let mut bar = bar.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        match event {
            FetchEvent::Progress { received } => bar.iter().for_each(|p| p.set_position(*received)),
            FetchEvent::Downloaded { .. } => bar.take().iter().for_each(|p| p.finish_and_clear()),
            _ => {}
        }
        if let Some(line) = event.text() {
            eprintln!("mlflow-migrate: {line}");
        }
        if let FetchEvent::Downloading { size, .. } = event {
            let progress = indicatif::ProgressBar::with_draw_target(
                *size,
                indicatif::ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = indicatif::ProgressStyle::with_template(
                "  [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} {eta}",
            ) {
                progress.set_style(style.progress_chars("=> "));
            }
            *bar = Some(progress);
        }
    })
}
