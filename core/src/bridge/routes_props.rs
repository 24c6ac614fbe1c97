//! Property tests on random connected graphs of up to 8 hubs: a message reaches every hub of
//! its component exactly once, crosses exactly the links of the reference tree that lead to
//! interested hubs, and still does after a random hub dies.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::test_message::assert_exactly_once_from_everywhere;
use super::test_net::Net;
use super::*;

/// A connected graph: a random spanning tree plus random extra edges, as index pairs; ids are
/// random so that tie-breaks do not follow the order hubs were made in.
fn graph() -> impl Strategy<Value = (Vec<HubId>, Vec<(usize, usize)>)> {
    (2..=8_usize).prop_flat_map(|n| {
        let ids = prop::collection::btree_set(any::<u64>(), n)
            .prop_map(|set| set.into_iter().map(HubId).collect::<Vec<_>>())
            .prop_shuffle();
        let tree: Vec<BoxedStrategy<(usize, usize)>> = (1..n)
            .map(|i| (0..i).prop_map(move |j| (j, i)).boxed())
            .collect();
        let extra = prop::collection::vec((0..n, 0..n), 0..n * 2);
        (ids, tree, extra).prop_map(|(ids, tree, extra)| {
            let mut edges: BTreeSet<(usize, usize)> = tree.into_iter().collect();
            edges.extend(
                extra
                    .into_iter()
                    .filter(|(a, b)| a != b)
                    .map(|(a, b)| (a.min(b), a.max(b))),
            );
            (ids, edges.into_iter().collect())
        })
    })
}

fn build(ids: &[HubId], edges: &[(usize, usize)]) -> Net {
    let edges: Vec<(HubId, HubId)> = edges.iter().map(|&(a, b)| (ids[a], ids[b])).collect();
    Net::new(ids, &edges)
}

const PATTERNS: [&str; 5] = ["a", "a/*", "b", "**", "*/c"];
const CHANNELS: [&str; 4] = ["a", "a/c", "b", "x/c"];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn flooding_reaches_every_hub_exactly_once((ids, edges) in graph()) {
        assert_exactly_once_from_everywhere(&build(&ids, &edges));
    }

    #[test]
    fn a_message_crosses_a_link_only_toward_interest(
        (ids, edges) in graph(),
        interest in prop::collection::vec(prop::option::of(0..PATTERNS.len()), 8),
        channel in 0..CHANNELS.len(),
    ) {
        let mut net = build(&ids, &edges);
        for (hub, pattern) in ids.iter().zip(&interest) {
            if let Some(p) = pattern {
                net.subscribe(*hub, PATTERNS[*p], None);
            }
        }
        net.sync_interest();
        let channel_text = CHANNELS[channel];
        let parsed = crate::pubsub::Channel::parse(channel_text).unwrap();
        for &origin in &ids {
            let wanted: BTreeSet<HubId> = ids.iter().zip(&interest)
                .filter(|(&hub, p)| hub != origin
                    && p.is_some_and(|p| crate::pubsub::Pattern::parse(PATTERNS[p]).unwrap().matches(&parsed)))
                .map(|(&hub, _)| hub)
                .collect();
            let delivery = net.send(origin, channel_text, &[], false);
            prop_assert!(delivery.refused.is_empty());
            let hops: BTreeSet<(HubId, HubId)> = delivery.hops.iter().copied().collect();
            prop_assert_eq!(hops.len(), delivery.hops.len(), "a link crossed twice");
            prop_assert_eq!(&hops, &net.expected_hops(origin, &wanted));
            for hub in &wanted {
                prop_assert_eq!(delivery.received.get(hub), Some(&1));
            }
        }
    }

    #[test]
    fn after_a_hub_dies_the_rest_get_each_message_once(
        (ids, edges) in graph(),
        dead in any::<prop::sample::Index>(),
    ) {
        let mut net = build(&ids, &edges);
        net.kill(ids[dead.index(ids.len())]);
        assert_exactly_once_from_everywhere(&net);
    }
}
