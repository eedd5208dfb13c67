use crate::store::{SearchJob, Store};

/// The search line: what is typed, and the job narrowing the timeline to it.
#[derive(Default)]
pub struct SearchState {
    pub input: String,
    pub editing: bool,
    pub job: Option<SearchJob>,
}

impl SearchState {
    pub fn is_active(&self) -> bool {
        !self.input.is_empty()
    }

    pub fn running(&self) -> bool {
        self.job.as_ref().is_some_and(|j| !j.is_done())
    }

    /// Starts (or restarts) the search over these candidates.
    pub fn restart(&mut self, candidates: &[u32]) {
        self.job = self
            .is_active()
            .then(|| SearchJob::new(self.input.clone(), candidates.to_vec()));
    }

    /// Runs one slice; returns whether results changed.
    pub fn step(&mut self, store: &Store, budget: usize) -> bool {
        match &mut self.job {
            Some(job) if !job.is_done() => {
                job.step(store, budget);
                true
            }
            _ => false,
        }
    }

    /// Percent examined, while running.
    pub fn progress(&self) -> Option<u8> {
        let job = self.job.as_ref().filter(|j| !j.is_done())?;
        let (done, total) = job.progress();
        Some((done * 100 / total.max(1)) as u8)
    }
}
