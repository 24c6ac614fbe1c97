//! The seen-set says "first time" exactly once per message inside its window, never for one
//! below it, and agrees with a plain set of everything seen.

use std::collections::{HashMap, HashSet};

use proptest::prelude::*;

use super::*;

#[test]
fn window_edges() {
    let mut seen = SeenSet::default();
    let o = HubId(7);
    assert!(seen.first_time(o, 5000));
    assert!(
        seen.first_time(o, 5000 - SEEN_WINDOW + 1),
        "the oldest number inside"
    );
    assert!(
        !seen.first_time(o, 5000 - SEEN_WINDOW),
        "just below the window"
    );
    assert!(
        seen.first_time(o, 5000 + SEEN_WINDOW),
        "a jump of a whole window"
    );
    assert!(!seen.first_time(o, 5000), "now below the window");
    assert!(
        seen.first_time(o, 5000 + 1),
        "slot reused, but cleared when the window moved"
    );
    assert!(seen.first_time(HubId(8), 0), "origins are apart");
    seen.retain(|origin| origin == o);
    assert_eq!(seen.len(), 1);
    assert!(
        seen.first_time(HubId(8), 0),
        "a forgotten origin starts afresh"
    );
}

proptest! {
    #[test]
    fn agrees_with_a_plain_set(
        messages in prop::collection::vec((0..3_u64, 0..3000_u64), 1..400),
    ) {
        let mut seen = SeenSet::default();
        let mut model: HashMap<u64, (u64, HashSet<u64>)> = HashMap::new();
        for (origin, seq) in messages {
            let (highest, had) = model.entry(origin).or_insert((seq, HashSet::new()));
            let expected = !had.contains(&seq) && seq + SEEN_WINDOW > *highest;
            *highest = (*highest).max(seq);
            had.insert(seq);
            prop_assert_eq!(seen.first_time(HubId(origin), seq), expected, "{} {}", origin, seq);
        }
    }
}
