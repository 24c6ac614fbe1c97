//! The NATS side of delivery: a publish as MSG lines written into a NATS subscriber's buffer,
//! each subscription's sid and `UNSUB` maximum kept by the connection's [`SidBook`].

use std::cell::RefCell;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use actix::{Message, Recipient};
use bytes::BytesMut;
use hubwire_core::nats::{
    channel_to_subject, is_plain, nats_view_on, write_plain_msg, Delivered, EncodedMsg, NatsForms,
    Reader, SidBook,
};
use hubwire_core::protocol::Publish;
use hubwire_core::pubsub::Channel;

use super::lone::LoneClock;
use super::{Hub, Peer, Routing};

thread_local! {
    /// The channel last delivered to NATS subscribers on this thread and its NATS subject: a
    /// publisher sending to one channel has it mapped once, not per message.
    static LAST_SUBJECT: RefCell<Option<(Channel, Option<Arc<str>>)>> = const { RefCell::new(None) };
}

impl Hub {
    /// Appends, for each publish's forms, one MSG per subscription in `sids` (those the NATS
    /// client still has) to a NATS subscriber's buffer, under one lock of the buffer and one
    /// of the book, until one would pass its bound (then the subscriber is cut off). Answers
    /// how many publishes were queued.
    pub(super) fn push_nats(
        &self,
        peer: &Peer,
        nats: &NatsPeer,
        mut run: NatsRun<'_>,
        sids: &[u64],
        routing: &mut Routing,
    ) -> usize {
        // Written straight into the subscriber's buffer, under its lock (then the book's):
        // one copy of each MSG, no buffer of its own per delivery.
        let mut ended = Vec::new();
        let mut pushed = 0;
        let mut outbound = peer.outbound.outbound().lock();
        let mut delivery = nats.delivery.lock().unwrap_or_else(|e| e.into_inner());
        let reader = delivery.reader;
        let run_len = run.len();
        for at in 0..run_len {
            if outbound.queued_frames() >= self.limits.max_outbound_messages {
                drop((delivery, outbound));
                self.found_slow(peer, NATS_SLOW_CONSUMER);
                return pushed;
            }
            let Some(msg) = run.msg(at, reader) else {
                continue;
            };
            let room = self
                .limits
                .max_outbound_bytes
                .saturating_sub(outbound.backlog());
            let mut wrote = false;
            let written = outbound.push_with(|out| {
                let start = out.len();
                for &sid in sids {
                    if delivery.book.deliver(sid, |text| msg.write(text, out)) == Delivered::Last {
                        ended.push(sid);
                    }
                }
                // Past the bound: taken back (the subscriber is cut off below).
                if out.len() - start > room {
                    return Err(());
                }
                wrote = out.len() > start;
                Ok(())
            });
            match written {
                Ok(open) => pushed += usize::from(open && wrote),
                Err(()) => {
                    drop((delivery, outbound));
                    self.found_slow(peer, NATS_SLOW_CONSUMER);
                    return pushed;
                }
            }
        }
        let write_now = routing.lone && delivery.lone.quiet(Instant::now());
        drop(delivery);
        if routing.stalled.is_none() && self.past_stall_mark(&outbound) {
            routing.stalled = Some(peer.outbound.clone());
        }
        // The only message of its read, to a quiet subscriber: written now (`lone.rs`).
        if write_now {
            outbound.flush_now();
        }
        drop(outbound);
        for sid in ended {
            nats.ended.do_send(SubscriptionEnded(sid));
        }
        pushed
    }
}

/// Publishes as NATS subscribers get them.
pub(super) enum NatsRun<'a> {
    /// Plain ones ([`is_plain`]): written straight, the same `MSG` for every reader.
    Plain {
        subject: &'a str,
        publishes: &'a [Publish],
    },
    /// Any others, encoded once for each kind of reader.
    Forms(&'a mut [NatsForms]),
}

impl NatsRun<'_> {
    fn len(&self) -> usize {
        match self {
            NatsRun::Plain { publishes, .. } => publishes.len(),
            NatsRun::Forms(forms) => forms.len(),
        }
    }

    /// The `at`th message as `reader` gets it, if it gets one.
    fn msg(&mut self, at: usize, reader: Reader) -> Option<Msg<'_>> {
        match self {
            NatsRun::Plain { subject, publishes } => Some(Msg::Plain {
                subject,
                payload: &publishes[at].body,
            }),
            NatsRun::Forms(forms) => forms[at].for_reader(reader).map(Msg::Encoded),
        }
    }
}

/// One message for one subscriber.
enum Msg<'a> {
    Plain { subject: &'a str, payload: &'a [u8] },
    Encoded(&'a EncodedMsg),
}

impl Msg<'_> {
    fn write(&self, sid: &str, out: &mut BytesMut) {
        match self {
            Msg::Plain { subject, payload } => write_plain_msg(subject, sid, payload, out),
            Msg::Encoded(msg) => msg.write(sid, out),
        }
    }
}

/// Whether every one of `publishes` is plain ([`is_plain`]).
pub(super) fn all_plain(publishes: &[Publish]) -> bool {
    publishes
        .iter()
        .all(|p| is_plain(p.flags, p.reply_to.is_some(), &p.headers))
}

/// What a NATS subscriber cut off as a slow consumer reads last.
const NATS_SLOW_CONSUMER: &[u8] = b"-ERR 'Slow Consumer'\r\n";

/// A publish as NATS subscribers see it, to be encoded for each kind of reader.
pub(super) fn nats_forms_of(publish: &Publish) -> NatsForms {
    NatsForms::new(nats_view_on(
        subject_of(&publish.channel),
        publish.flags,
        publish.reply_to.as_ref(),
        &publish.headers,
        &publish.body,
    ))
}

/// The NATS subject of `channel` ([`channel_to_subject`]), remembered for the next publish.
pub(super) fn subject_of(channel: &Channel) -> Option<Arc<str>> {
    LAST_SUBJECT.with_borrow_mut(|last| {
        if let Some((_, subject)) = last.as_ref().filter(|(known, _)| known == channel) {
            return subject.clone();
        }
        let subject: Option<Arc<str>> = channel_to_subject(channel).map(Arc::from);
        *last = Some((channel.clone(), subject.clone()));
        subject
    })
}

/// A NATS client's delivery side: its subscriptions' sids and what it reads, which the
/// router consults for each MSG it writes (a lock per delivery to that connection, as its
/// outbound buffer takes), and where to say a subscription has had its last message.
#[derive(Debug)]
pub struct NatsPeer {
    /// The book and the reader.
    pub delivery: Mutex<NatsDelivery>,
    /// Told when a subscription has had its `UNSUB` maximum.
    pub ended: Recipient<SubscriptionEnded>,
}

/// What the router needs to write a NATS client's MSGs.
#[derive(Debug, Default)]
pub struct NatsDelivery {
    /// Its subscriptions.
    pub book: SidBook,
    /// What it reads (from its CONNECT).
    pub reader: Reader,
    /// When it was last sent a lone message.
    lone: LoneClock,
}

/// A NATS client's subscription has had the last message its `UNSUB` allowed.
#[derive(Debug, Message)]
#[rtype(result = "()")]
pub struct SubscriptionEnded(pub u64);
