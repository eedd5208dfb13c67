use crate::store::Pivot;

/// The pivots a responder has gone through, with back and forward like a browser.
#[derive(Debug, Clone)]
pub struct PivotHistory {
    steps: Vec<Vec<Pivot>>,
    at: usize,
}

impl PivotHistory {
    pub fn new(initial: Vec<Pivot>) -> Self {
        PivotHistory {
            steps: vec![initial],
            at: 0,
        }
    }

    /// A history as it was saved: its steps, and the one it was at.
    pub fn restore(steps: Vec<Vec<Pivot>>, at: usize) -> Self {
        if steps.is_empty() {
            return PivotHistory::new(Vec::new());
        }
        let at = at.min(steps.len() - 1);
        PivotHistory { steps, at }
    }

    /// Every step, and the one it is at.
    pub fn steps(&self) -> (&[Vec<Pivot>], usize) {
        (&self.steps, self.at)
    }

    pub fn current(&self) -> &[Pivot] {
        &self.steps[self.at]
    }

    /// Goes to a new pivot; anything ahead of the current step is dropped, as in a browser.
    pub fn push(&mut self, pivots: Vec<Pivot>) {
        if pivots.as_slice() == self.current() {
            return;
        }
        self.steps.truncate(self.at + 1);
        self.steps.push(pivots);
        self.at += 1;
    }

    pub fn back(&mut self) -> bool {
        if self.at == 0 {
            return false;
        }
        self.at -= 1;
        true
    }

    pub fn forward(&mut self) -> bool {
        if self.at + 1 >= self.steps.len() {
            return false;
        }
        self.at += 1;
        true
    }

    /// `all › user=mallory › +pod=api-7d9f`: each step up to the current one, shown as what it
    /// added when it narrowed the previous step, else in full.
    pub fn path(&self) -> Vec<String> {
        let mut out = Vec::new();
        for (i, step) in self.steps[..=self.at].iter().enumerate() {
            let label = if step.is_empty() {
                "all".to_string()
            } else if i > 0
                && !self.steps[i - 1].is_empty()
                && self.steps[i - 1].iter().all(|p| step.contains(p))
            {
                step.iter()
                    .filter(|p| !self.steps[i - 1].contains(p))
                    .map(|p| format!("+{p}"))
                    .collect::<Vec<_>>()
                    .join(" ")
            } else {
                step.iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(" & ")
            };
            out.push(label);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn back_forward_and_path() {
        let user: Pivot = "user=mallory".parse().unwrap();
        let pod: Pivot = "pod=api".parse().unwrap();
        let mut h = PivotHistory::new(vec![]);
        h.push(vec![user.clone()]);
        h.push(vec![user.clone(), pod.clone()]);
        assert_eq!(h.path(), ["all", "user=mallory", "+pod=api"]);
        assert!(h.back());
        assert_eq!(h.current(), std::slice::from_ref(&user));
        assert!(h.forward());
        assert!(!h.forward());
        assert!(h.back() && h.back() && !h.back());
        assert!(h.current().is_empty());
        // A new step after going back drops the old future.
        h.push(vec![pod.clone()]);
        assert!(!h.forward());
        assert_eq!(h.path(), ["all", "pod=api"]);
    }
}
