//! Strategies and restart policies: which children a failure restarts.

use serde::{Deserialize, Serialize};

/// Which siblings are restarted with a failed child (Erlang/OTP's strategies).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Only the failed child: children are independent.
    #[default]
    OneForOne,
    /// Every child: they depend on each other and restart together.
    OneForAll,
    /// The failed child and those started after it: later children depend on earlier ones.
    RestForOne,
}

/// Whether a child is restarted when it stops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestartPolicy {
    /// Always restarted, even after a normal stop (a service that should run forever).
    #[default]
    Permanent,
    /// Restarted only after a failure (a job that may finish).
    Transient,
    /// Never restarted.
    Temporary,
}

/// How a child ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Exit {
    /// The child said it finished, then stopped.
    Normal,
    /// The child failed: it panicked, failed to start, or stopped without saying it finished.
    Failed(String),
}

impl RestartPolicy {
    /// Whether a child under this policy is restarted after `exit`.
    pub fn restarts_after(self, exit: &Exit) -> bool {
        match (self, exit) {
            (RestartPolicy::Permanent, _) => true,
            (RestartPolicy::Transient, Exit::Failed(_)) => true,
            (RestartPolicy::Transient, Exit::Normal) => false,
            (RestartPolicy::Temporary, _) => false,
        }
    }
}

/// The children (indices in start order) to stop and start again when child `ended` (of
/// `count`) ended with `exit` under `policy` — empty when nothing is restarted. Siblings are
/// stopped in reverse start order and all started in start order by the caller.
pub fn restart_plan(
    strategy: Strategy,
    policy: RestartPolicy,
    ended: usize,
    count: usize,
    exit: &Exit,
) -> Vec<usize> {
    if !policy.restarts_after(exit) || ended >= count {
        return Vec::new();
    }
    match strategy {
        Strategy::OneForOne => vec![ended],
        Strategy::OneForAll => (0..count).collect(),
        Strategy::RestForOne => (ended..count).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed() -> Exit {
        Exit::Failed("boom".into())
    }

    #[test]
    fn each_strategy_restarts_the_right_children() {
        use RestartPolicy::Permanent;
        assert_eq!(
            restart_plan(Strategy::OneForOne, Permanent, 1, 4, &failed()),
            vec![1]
        );
        assert_eq!(
            restart_plan(Strategy::OneForAll, Permanent, 1, 4, &failed()),
            vec![0, 1, 2, 3]
        );
        assert_eq!(
            restart_plan(Strategy::RestForOne, Permanent, 1, 4, &failed()),
            vec![1, 2, 3]
        );
        assert_eq!(
            restart_plan(Strategy::RestForOne, Permanent, 3, 4, &failed()),
            vec![3]
        );
    }

    #[test]
    fn policies_decide_whether_anything_restarts() {
        let normal = Exit::Normal;
        assert!(RestartPolicy::Permanent.restarts_after(&normal));
        assert!(RestartPolicy::Permanent.restarts_after(&failed()));
        assert!(!RestartPolicy::Transient.restarts_after(&normal));
        assert!(RestartPolicy::Transient.restarts_after(&failed()));
        assert!(!RestartPolicy::Temporary.restarts_after(&failed()));
        assert!(
            restart_plan(Strategy::OneForAll, RestartPolicy::Transient, 0, 3, &normal).is_empty()
        );
        assert!(restart_plan(
            Strategy::OneForAll,
            RestartPolicy::Temporary,
            0,
            3,
            &failed()
        )
        .is_empty());
    }

    #[test]
    fn names_read_from_json() {
        let s: Strategy = serde_json::from_str("\"rest_for_one\"").unwrap();
        assert_eq!(s, Strategy::RestForOne);
        let p: RestartPolicy = serde_json::from_str("\"transient\"").unwrap();
        assert_eq!(p, RestartPolicy::Transient);
    }
}
