//! What the subcommands that read messages count, and the exit status it
//! gives.

use std::process::ExitCode;

/// Why the tool stopped or what it ran into, for the exit status.
#[derive(Default)]
pub struct Status {
    pub invalid: usize,
    pub valid: usize,
    pub io_error: bool,
    /// Messages found in all inputs.
    pub found: usize,
    /// Inputs that held no message at all.
    pub empty: usize,
}

impl Status {
    /// 2 after an I/O error, 1 when a message was invalid or an input
    /// empty, 0 otherwise.
    pub fn exit_code(&self) -> ExitCode {
        if self.io_error {
            ExitCode::from(2)
        } else if self.invalid > 0 || self.empty > 0 {
            ExitCode::from(1)
        } else {
            ExitCode::SUCCESS
        }
    }

    /// Whether to print the `N valid, M invalid` line: not when every
    /// input was found empty, which has been said already.
    pub fn has_summary(&self) -> bool {
        self.found > 0 || self.empty == 0
    }
}
