//! Re-invoking this executable for measurements that need their own process (peak RSS).

use std::process::{Command, Stdio};

use serde_json::Value;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// Runs `<this exe> --child <args...>` and parses the last stdout line as JSON. The child's
/// stderr goes to ours.
pub(crate) fn run_json(args: &[&str]) -> Result<Value, BoxError> {
    let exe = std::env::current_exe()?;
    let out = Command::new(exe)
        .arg("--child")
        .args(args)
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()?;
    if !out.status.success() {
        return Err(format!("child {args:?} failed with {}", out.status).into());
    }
    let text = String::from_utf8(out.stdout)?;
    let line = text
        .lines()
        .rev()
        .find(|l| !l.trim().is_empty())
        .ok_or_else(|| format!("child {args:?} printed nothing"))?;
    Ok(serde_json::from_str(line)?)
}
