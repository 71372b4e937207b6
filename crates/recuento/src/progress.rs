//! Progress of long stages: a bar on a terminal, a plain line every tenth of the work otherwise
//! (logs of batch jobs stay readable).

use std::io::IsTerminal;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use indicatif::{ProgressBar, ProgressStyle};
use recuento_engine::Progress;

/// Progress on standard error.
pub struct Stderr {
    bar: Mutex<Option<ProgressBar>>,
    stage: Mutex<String>,
    total: AtomicU64,
    done: AtomicU64,
    next_line: AtomicU64,
    terminal: bool,
}

impl Default for Stderr {
    fn default() -> Self {
        Stderr {
            bar: Mutex::new(None),
            stage: Mutex::new(String::new()),
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            next_line: AtomicU64::new(0),
            terminal: std::io::stderr().is_terminal(),
        }
    }
}

impl Progress for Stderr {
    fn start(&self, stage: &str, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        self.done.store(0, Ordering::Relaxed);
        self.next_line.store(total / 10, Ordering::Relaxed);
        if let Ok(mut s) = self.stage.lock() {
            *s = stage.to_string();
        }
        if self.terminal {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(
                    "{msg:>28} [{bar:30}] {human_pos}/{human_len} pairs ({per_sec}, {eta})",
                )
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            bar.set_message(stage.to_string());
            if let Ok(mut b) = self.bar.lock() {
                *b = Some(bar);
            }
        } else {
            eprintln!("{stage}: up to {total} pairs");
        }
    }

    fn advance(&self, n: u64) {
        let done = self.done.fetch_add(n, Ordering::Relaxed) + n;
        if self.terminal {
            if let Ok(b) = self.bar.lock()
                && let Some(b) = b.as_ref()
            {
                b.set_position(done);
            }
        } else {
            let total = self.total.load(Ordering::Relaxed);
            let next = self.next_line.load(Ordering::Relaxed);
            if total > 0 && done >= next && next > 0 {
                self.next_line.store(next + total / 10, Ordering::Relaxed);
                let stage = self.stage.lock().map(|s| s.clone()).unwrap_or_default();
                eprintln!("{stage}: {done} pairs");
            }
        }
    }

    fn finish(&self) {
        if let Ok(mut b) = self.bar.lock()
            && let Some(b) = b.take()
        {
            b.finish_and_clear();
        }
        if !self.terminal {
            let stage = self.stage.lock().map(|s| s.clone()).unwrap_or_default();
            eprintln!("{stage}: done, {} pairs", self.done.load(Ordering::Relaxed));
        }
    }
}
