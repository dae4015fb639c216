//! `safespace`: score text for self-harm risk, harassment and health misinformation from the command
//! line, one sentence at a time or whole JSONL/CSV files and pipes, or over HTTP (`safespace serve`).

mod evaluate;
mod fit;
mod html;
mod options;
mod records;
mod run;
mod serve;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = options::Cli::parse();
    match run::run(cli) {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::from(2)
        }
    }
}
