//! The longest text a detector scores whole: [`Detector::try_score`](crate::Detector::try_score)
//! refuses a longer one, [`Detector::score`](crate::Detector::score) scores its beginning and says so.

use crate::error::{Error, Result};
use crate::offsets::prefix;
use crate::report::Report;
use crate::Detector;

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

/// The scoring calls that refuse text over the limit instead of cutting it.
impl Detector {
    /// Scores one text, or fails with [`Error::InputTooLarge`](crate::Error::InputTooLarge) when it is longer than
    /// [`DetectorBuilder::max_input_bytes`](crate::DetectorBuilder::max_input_bytes).
    ///
    /// ```
    /// let detector = safespace::Detector::builder().rules_only(true).max_input_bytes(10).build()?;
    /// assert!(detector.try_score("short").is_ok());
    /// let err = detector.try_score("a much longer text").unwrap_err();
    /// assert!(matches!(err, safespace::Error::InputTooLarge { bytes: 18, limit: 10 }));
    /// # Ok::<(), safespace::Error>(())
    /// ```
    pub fn try_score(&self, text: &str) -> Result<Report> {
        self.limit.check(text)?;
        Ok(self.score(text))
    }

    /// Like [`score_batch`](Self::score_batch), with an [`Error::InputTooLarge`](crate::Error::InputTooLarge) in place of each text
    /// over the limit; the others are scored.
    ///
    /// ```
    /// let detector = safespace::Detector::builder().rules_only(true).max_input_bytes(10).build()?;
    /// let results = detector.try_score_batch(&["kys", "a much longer text"]);
    /// assert!(results[0].as_ref().unwrap().is_flagged(safespace::Category::SelfHarm));
    /// assert!(results[1].is_err());
    /// # Ok::<(), safespace::Error>(())
    /// ```
    pub fn try_score_batch<S: AsRef<str> + Sync>(&self, texts: &[S]) -> Vec<Result<Report>> {
        let fitting: Vec<&str> = texts
            .iter()
            .map(AsRef::as_ref)
            .filter(|t| self.limit.check(t).is_ok())
            .collect();
        let mut reports = self.score_batch(&fitting).into_iter();
        texts
            .iter()
            .map(|t| {
                self.limit.check(t.as_ref())?;
                Ok(reports.next().expect("one report per fitting text"))
            })
            .collect()
    }

    /// The longest text scored whole, in bytes.
    ///
    /// ```
    /// assert_eq!(safespace::Detector::default().max_input_bytes(), safespace::DEFAULT_MAX_INPUT_BYTES);
    /// ```
    pub fn max_input_bytes(&self) -> usize {
        self.limit.0
    }
}
