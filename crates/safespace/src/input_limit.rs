//! The longest text a detector scores whole: [`Detector::try_score`](crate::Detector::try_score)
//! refuses a longer one, [`Detector::score`](crate::Detector::score) scores its beginning and says so.

use crate::error::{Error, Result};
use crate::offsets::prefix;
use crate::report::Report;

/// A limit on scored text, in bytes (at least 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct InputLimit(pub usize);

impl InputLimit {
    /// [`Error::InputTooLarge`] when `text` is over the limit.
    pub(crate) fn check(self, text: &str) -> Result<()> {
        match text.len() > self.0 {
            true => Err(Error::InputTooLarge {
                bytes: text.len(),
                limit: self.0,
            }),
            false => Ok(()),
        }
    }

    /// `text` cut to the limit at a character boundary.
    pub(crate) fn cut(self, text: &str) -> &str {
        prefix(text, self.0)
    }

    /// `report` with a note in `engine.note` when only `scored` of `length` bytes were scored.
    pub(crate) fn note_cut(self, mut report: Report, length: usize, scored: usize) -> Report {
        if scored < length {
            let cut = format!(
                "only the first {scored} of {length} bytes were scored (max_input_bytes is {})",
                self.0
            );
            report.engine.note = Some(match report.engine.note.take() {
                Some(note) => format!("{cut}; {note}"),
                None => cut,
            });
        }
        report
    }
}
