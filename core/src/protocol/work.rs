//! The network work queue's envelopes (`docs/protocol.md` section 12, `docs/work-queue.md`):
//! STATUS and ENQUEUE keep Net Queue's kinds 3 and 6; the rest take kinds 96 and up.
//!
//! The decoders are strict like the pub/sub ones: text must be `str`, bodies `bin`, flags
//! carry only the bits defined, and every count is checked against the bytes left before
//! anything is reserved. Bodies are slices of the payload, not copies.

use bytes::{BufMut, Bytes, BytesMut};

use super::wire::{self, read_whole, Form, Reader, WireError};
use super::{kind, Envelope, ProtocolError};

/// ENQUEUE flag: deliver a copy to every worker that takes the queue (`send_all`).
pub const SEND_ALL: u8 = 0x01;
/// DELIVER flag: this is a `send_all` copy, not a shared item.
pub const BROADCAST: u8 = 0x01;

fn flags(rd: &mut Reader<'_>, allowed: u8) -> Result<u8, WireError> {
    let value = rd.u8()?;
    if value & !allowed != 0 {
        return Err(WireError::OutOfRange {
            value: u64::from(value),
            max: u64::from(allowed),
        });
    }
    Ok(value)
}

fn str_list(rd: &mut Reader<'_>) -> Result<Vec<String>, WireError> {
    let n = rd.array_len()?;
    (0..n)
        .map(|_| rd.text(Form::Str).map(str::to_owned))
        .collect()
}

/// STATUS, both ways: what the sender reports about itself, MessagePack in a `bin`. `[body]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WorkStatus {
    /// The status value (a MessagePack map by convention), opaque to the protocol.
    pub body: Bytes,
}

impl Envelope for WorkStatus {
    const KIND: u16 = kind::STATUS;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x91);
        wire::put_bin(out, &self.body)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        let body = read_whole(Self::KIND, payload, |rd| {
            rd.array_of(1)?;
            rd.bytes(Form::Bin)
        })?;
        Ok(WorkStatus {
            body: payload.slice_ref(body),
        })
    }

    fn payload_size_hint(&self) -> usize {
        1 + wire::bin_header_len(self.body.len()) + self.body.len()
    }
}

/// ENQUEUE, producer to dispatcher: items for a queue. `[reference, queue, flags, items]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enqueue {
    /// Chosen by the producer; the answer (ENQUEUED, or ERROR with this id) names it.
    pub reference: u64,
    /// The queue.
    pub queue: String,
    /// [`SEND_ALL`] or 0.
    pub flags: u8,
    /// The items' bodies, in order.
    pub items: Vec<Bytes>,
}

impl Envelope for Enqueue {
    const KIND: u16 = kind::ENQUEUE;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x94);
        wire::put_uint(out, self.reference);
        wire::put_str(out, &self.queue)?;
        wire::put_uint(out, u64::from(self.flags));
        wire::put_array_len(out, self.items.len())?;
        self.items.iter().try_for_each(|b| wire::put_bin(out, b))
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(4)?;
            let reference = rd.uint()?;
            let queue = rd.text(Form::Str)?.to_owned();
            let flags = flags(rd, SEND_ALL)?;
            let n = rd.array_len()?;
            let items = (0..n)
                .map(|_| rd.bytes(Form::Bin).map(|b| payload.slice_ref(b)))
                .collect::<Result<_, _>>()?;
            Ok(Enqueue {
                reference,
                queue,
                flags,
                items,
            })
        })
    }

    fn payload_size_hint(&self) -> usize {
        24 + self.queue.len()
            + self
                .items
                .iter()
                .map(|b| wire::bin_header_len(b.len()) + b.len())
                .sum::<usize>()
    }
}

/// ENQUEUED, dispatcher to producer: the items of an ENQUEUE are stored. `[reference, ids]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Enqueued {
    /// The ENQUEUE's reference.
    pub reference: u64,
    /// The items' ids, in the ENQUEUE's order.
    pub ids: Vec<u64>,
}

impl Envelope for Enqueued {
    const KIND: u16 = kind::WORK_ENQUEUED;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x92);
        wire::put_uint(out, self.reference);
        wire::put_array_len(out, self.ids.len())?;
        self.ids.iter().for_each(|&id| wire::put_uint(out, id));
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(2)?;
            let reference = rd.uint()?;
            let n = rd.array_len()?;
            let ids = (0..n).map(|_| rd.uint()).collect::<Result<_, _>>()?;
            Ok(Enqueued { reference, ids })
        })
    }

    fn payload_size_hint(&self) -> usize {
        16 + 9 * self.ids.len()
    }
}

/// TAKE, worker to dispatcher: the queues it takes and its credit, replacing what it sent
/// before (credit 0: drain). `[queues, credit]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Take {
    /// The queues, by name.
    pub queues: Vec<String>,
    /// Leases it holds at most at once.
    pub credit: u32,
}

impl Envelope for Take {
    const KIND: u16 = kind::WORK_TAKE;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x92);
        wire::put_array_len(out, self.queues.len())?;
        self.queues.iter().try_for_each(|q| wire::put_str(out, q))?;
        wire::put_uint(out, u64::from(self.credit));
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(2)?;
            Ok(Take {
                queues: str_list(rd)?,
                credit: rd.u32()?,
            })
        })
    }
}

/// TAKEN, dispatcher to worker: its TAKE is applied, with the credit granted. `[credit]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Taken {
    /// The credit granted (the asked one, or the dispatcher's limit if lower).
    pub credit: u32,
}

impl Envelope for Taken {
    const KIND: u16 = kind::WORK_TAKEN;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x91);
        wire::put_uint(out, u64::from(self.credit));
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(1)?;
            Ok(Taken { credit: rd.u32()? })
        })
    }
}

/// DELIVER, dispatcher to worker: an item under a lease.
/// `[lease, queue, id, delivery, visibility_ms, flags, body]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deliver {
    /// The lease the worker answers about.
    pub lease: u64,
    /// The item's queue.
    pub queue: String,
    /// The item's id.
    pub id: u64,
    /// This delivery's number for the item, from 1.
    pub delivery: u32,
    /// The lease ends this long after it was sent unless extended (PROGRESS).
    pub visibility_ms: u64,
    /// [`BROADCAST`] or 0.
    pub flags: u8,
    /// The item's body.
    pub body: Bytes,
}

impl Envelope for Deliver {
    const KIND: u16 = kind::WORK_DELIVER;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x97);
        wire::put_uint(out, self.lease);
        wire::put_str(out, &self.queue)?;
        wire::put_uint(out, self.id);
        wire::put_uint(out, u64::from(self.delivery));
        wire::put_uint(out, self.visibility_ms);
        wire::put_uint(out, u64::from(self.flags));
        wire::put_bin(out, &self.body)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(7)?;
            Ok(Deliver {
                lease: rd.uint()?,
                queue: rd.text(Form::Str)?.to_owned(),
                id: rd.uint()?,
                delivery: rd.u32()?,
                visibility_ms: rd.uint()?,
                flags: flags(rd, BROADCAST)?,
                body: payload.slice_ref(rd.bytes(Form::Bin)?),
            })
        })
    }

    fn payload_size_hint(&self) -> usize {
        48 + self.queue.len() + wire::bin_header_len(self.body.len()) + self.body.len()
    }
}

/// ACK, worker to dispatcher: the item of this lease is done. `[lease]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Ack {
    /// The lease.
    pub lease: u64,
}

impl Envelope for Ack {
    const KIND: u16 = kind::WORK_ACK;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x91);
        wire::put_uint(out, self.lease);
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(1)?;
            Ok(Ack { lease: rd.uint()? })
        })
    }
}

/// NACK, worker to dispatcher: the item failed; deliver it again, not before `delay_ms`.
/// `[lease, delay_ms, reason]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Nack {
    /// The lease.
    pub lease: u64,
    /// Wait this long before delivering it again.
    pub delay_ms: u64,
    /// Why, kept with the item for the operator.
    pub reason: String,
}

impl Envelope for Nack {
    const KIND: u16 = kind::WORK_NACK;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x93);
        wire::put_uint(out, self.lease);
        wire::put_uint(out, self.delay_ms);
        wire::put_str(out, &self.reason)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(3)?;
            Ok(Nack {
                lease: rd.uint()?,
                delay_ms: rd.uint()?,
                reason: rd.text(Form::Str)?.to_owned(),
            })
        })
    }
}

/// REJECT, worker to dispatcher: the item will never succeed; to the error queue with it.
/// `[lease, reason]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Reject {
    /// The lease.
    pub lease: u64,
    /// Why, kept with the item for the operator.
    pub reason: String,
}

impl Envelope for Reject {
    const KIND: u16 = kind::WORK_REJECT;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x92);
        wire::put_uint(out, self.lease);
        wire::put_str(out, &self.reason)
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(2)?;
            Ok(Reject {
                lease: rd.uint()?,
                reason: rd.text(Form::Str)?.to_owned(),
            })
        })
    }
}

/// PROGRESS, worker to dispatcher: still working; extend the lease. `[lease, extend_ms]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The lease.
    pub lease: u64,
    /// The lease now ends this long from when the dispatcher reads the frame (0: the queue's
    /// visibility time).
    pub extend_ms: u64,
}

impl Envelope for Progress {
    const KIND: u16 = kind::WORK_PROGRESS;

    fn write_payload(&self, out: &mut BytesMut) -> Result<(), ProtocolError> {
        out.put_u8(0x92);
        wire::put_uint(out, self.lease);
        wire::put_uint(out, self.extend_ms);
        Ok(())
    }

    fn read_payload(payload: &Bytes) -> Result<Self, ProtocolError> {
        read_whole(Self::KIND, payload, |rd| {
            rd.array_of(2)?;
            Ok(Progress {
                lease: rd.uint()?,
                extend_ms: rd.uint()?,
            })
        })
    }
}

#[cfg(test)]
#[path = "work_tests.rs"]
mod tests;
