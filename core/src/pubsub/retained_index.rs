//! [`ChannelTree`]: the retained channels as a tree of tokens, so that a new subscription finds
//! the retained messages its pattern matches by walking the tree along the pattern, not by
//! testing every retained channel. A flood of subscriptions against a hub holding many retained
//! messages then costs what the patterns reach, not subscriptions × retained messages.

use std::collections::{HashMap, HashSet};

use super::{Channel, Pattern, PatternToken};

/// A tree of channel tokens; each channel that is in the tree carries a number (the retained
/// message's sequence number).
#[derive(Debug, Clone, Default)]
pub(super) struct ChannelTree {
    root: Node,
}

#[derive(Debug, Clone, Default)]
struct Node {
    children: HashMap<Box<str>, Node>,
    /// The number of the channel that ends here, if one does.
    here: Option<u64>,
}

impl ChannelTree {
    /// Puts `channel` in the tree with number `seq` (replacing its number if it was there).
    pub(super) fn insert(&mut self, channel: &Channel, seq: u64) {
        let mut node = &mut self.root;
        for token in channel.tokens() {
            node = node.children.entry(token.into()).or_default();
        }
        node.here = Some(seq);
    }

    /// Takes `channel` out of the tree, with the branches it leaves empty.
    pub(super) fn remove(&mut self, channel: &Channel) {
        let tokens: Vec<&str> = channel.tokens().collect();
        remove_below(&mut self.root, &tokens);
    }

    /// The numbers of every channel `pattern` matches, in no particular order.
    pub(super) fn matching(&self, pattern: &Pattern) -> Vec<u64> {
        let mut walk = Walk {
            tokens: pattern.tokens(),
            found: Vec::new(),
            seen: HashSet::new(),
        };
        walk.visit(&self.root, 0);
        walk.found
    }

    /// Whether the tree holds no channel.
    #[cfg(test)]
    pub(super) fn is_empty(&self) -> bool {
        self.root.children.is_empty() && self.root.here.is_none()
    }
}

/// Removes the channel of `tokens` below `node`; answers whether `node` is left empty.
fn remove_below(node: &mut Node, tokens: &[&str]) -> bool {
    match tokens.split_first() {
        None => node.here = None,
        Some((first, rest)) => {
            if let Some(child) = node.children.get_mut(*first) {
                if remove_below(child, rest) {
                    node.children.remove(*first);
                }
            }
        }
    }
    node.here.is_none() && node.children.is_empty()
}

/// One walk of the tree along a pattern.
struct Walk<'p> {
    tokens: &'p [PatternToken],
    found: Vec<u64>,
    /// (node, pattern position) pairs a `**` has already visited: with several `**` in a
    /// pattern, a node can be reached along many paths; each is walked once, so each channel
    /// is found once.
    seen: HashSet<(*const Node, usize)>,
}

impl Walk<'_> {
    /// Matches `tokens[at..]` against the channels at and below `node`.
    fn visit(&mut self, node: &Node, at: usize) {
        let Some(token) = self.tokens.get(at) else {
            self.found.extend(node.here);
            return;
        };
        match token {
            PatternToken::Literal(literal) => {
                if let Some(child) = node.children.get(literal) {
                    self.visit(child, at + 1);
                }
            }
            PatternToken::Star => {
                for child in node.children.values() {
                    self.visit(child, at + 1);
                }
            }
            PatternToken::DoubleStar => {
                if !self.seen.insert((node as *const Node, at)) {
                    return;
                }
                // Zero tokens, or one more and still in the `**`.
                self.visit(node, at + 1);
                for child in node.children.values() {
                    self.visit(child, at);
                }
            }
        }
    }
}
