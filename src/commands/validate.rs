//! `tdg validate`: a model judges each pair against its source text. The judge's
//! settings come from [`tdg::config::validate`].

use std::process::ExitCode;

use anyhow::Result;
use tdg::config::ValidateArgs;

use super::signals::until_signalled;
use super::{INTERRUPTED, env_var, failure_if_any, working_dir};

pub fn run(args: ValidateArgs) -> Result<ExitCode> {
    let _lock = super::lock_qa_dir(&args.qa_dir)?;
    let settings = args.resolve(&working_dir()?, env_var)?;
    until_signalled(async |cancel| {
        let report = tdg::validate::validate(&settings, cancel).await?;
        let rate = tdg::progress::percent(report.total_passed, report.total_scored);
        tracing::info!(
            "judged {} pairs ({} pass, {} could not be judged, {} judged before); in all {} of {} scored pairs pass ({rate:.1}%)",
            report.judged,
            report.passed,
            report.failed,
            report.already_judged,
            report.total_passed,
            report.total_scored
        );
        if report.interrupted {
            return Ok(ExitCode::from(INTERRUPTED));
        }
        Ok(failure_if_any(report.failed as usize))
    })
}
