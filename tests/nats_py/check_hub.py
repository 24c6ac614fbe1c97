"""Checks a hubwire hub's nats:// listener with the official Python client, nats-py, unchanged.

Usage: python3 check_hub.py nats://127.0.0.1:PORT

The hub runs a hubwire spoke that provides `svc/double` (answers the number doubled) and
`svc/fail` (answers an invalid-body error). Exits 0 when every check passes; otherwise prints
the failed check and exits 1. Run by tests/nats_py_and_js_clients.rs.
"""

import asyncio
import sys

import nats
from nats.errors import NoRespondersError, TimeoutError as NatsTimeout

WAIT = 5.0


async def barrier(nc):
    """Waits until every subscription `nc` sent is in force: the hub answers a PING only once
    every SUB read before it is. nats-py 2.16's flush() writes its PING ahead of a SUB still
    queued for its flusher task, so the first PONG proves nothing about that SUB; the second
    flush's PING follows it (check_auth.py's `in_force`)."""
    await nc.flush(timeout=WAIT)
    await nc.flush(timeout=WAIT)


async def next_msg(sub, what):
    try:
        return await sub.next_msg(timeout=WAIT)
    except NatsTimeout:
        raise AssertionError(f"no message: {what}")


async def nothing_more(sub, what):
    try:
        msg = await sub.next_msg(timeout=0.3)
    except NatsTimeout:
        return
    raise AssertionError(f"{what}: got {msg.data!r} on {msg.subject}")


async def wildcards(url):
    nc = await nats.connect(url)
    star = await nc.subscribe("py.*")
    tail = await nc.subscribe("py.>")
    await barrier(nc)
    await nc.publish("py.a", b"one")
    await nc.publish("py.a.b", b"two")
    m = await next_msg(star, "py.a on py.*")
    assert (m.subject, m.data) == ("py.a", b"one"), m
    assert (await next_msg(tail, "py.a on py.>")).subject == "py.a"
    assert (await next_msg(tail, "py.a.b on py.>")).data == b"two"
    await nothing_more(star, "py.* takes one token")
    await nc.close()


async def queue_groups(url):
    one, two, pub = [await nats.connect(url) for _ in range(3)]
    w1 = await one.subscribe("py.jobs", queue="workers")
    w2 = await two.subscribe("py.jobs", queue="workers")
    await barrier(one)
    await barrier(two)
    for n in range(100):
        await pub.publish("py.jobs", str(n).encode())
    await pub.flush()
    got = [0, 0]
    for i, sub in enumerate((w1, w2)):
        while True:
            try:
                await sub.next_msg(timeout=0.5)
                got[i] += 1
            except NatsTimeout:
                break
    assert sum(got) == 100, f"each job to one worker: {got}"
    assert got[0] > 0 and got[1] > 0, f"both workers get some: {got}"
    for nc in (one, two, pub):
        await nc.close()


async def requests(url):
    nc = await nats.connect(url)

    async def upper(msg):
        await nc.publish(msg.reply, msg.data.upper())

    await nc.subscribe("py.upper", cb=upper)
    await barrier(nc)
    reply = await nc.request("py.upper", b"hi", timeout=WAIT)
    assert reply.data == b"HI", reply
    try:
        await nc.request("py.nobody", b"hi", timeout=WAIT)
        raise AssertionError("a request to nobody was answered")
    except NoRespondersError:
        pass
    # Answered by a hubwire provider (a spoke's `provide` on svc/double).
    reply = await nc.request("svc.double", b"21", timeout=WAIT)
    assert reply.data == b"42", reply
    failed = await nc.request("svc.fail", b"x", timeout=WAIT)
    assert failed.headers and failed.headers.get("Nats-Service-Error-Code") == "300", failed.headers
    await nc.close()


async def headers_and_limits(url):
    nc = await nats.connect(url)
    assert nc.max_payload == 1024 * 1024, nc.max_payload
    sub = await nc.subscribe("py.h")
    await nc.publish("py.h", b"body", headers={"Trace-Id": "abc"})
    m = await next_msg(sub, "a message with headers")
    assert m.headers == {"Trace-Id": "abc"} and m.data == b"body", (m.headers, m.data)

    limited = await nc.subscribe("py.max")
    await limited.unsubscribe(limit=2)
    for n in range(4):
        await nc.publish("py.max", str(n).encode())
    assert (await next_msg(limited, "first of two")).data == b"0"
    assert (await next_msg(limited, "second of two")).data == b"1"
    await nothing_more(limited, "after the maximum")
    await nc.close()


async def drain_and_echo(url):
    nc = await nats.connect(url)
    got = []

    async def keep(msg):
        got.append(msg.data)

    sub = await nc.subscribe("py.drain", cb=keep)
    for n in range(10):
        await nc.publish("py.drain", str(n).encode())
    # nats-py's drain right after publishing can race its own reader (seen with nats-server
    # too): the publishes are flushed first.
    await barrier(nc)
    await sub.drain()
    assert len(got) == 10, got
    await nc.close()

    quiet = await nats.connect(url, no_echo=True)
    other = await nats.connect(url)
    sub = await quiet.subscribe("py.echo")
    await barrier(quiet)
    await quiet.publish("py.echo", b"mine")
    await barrier(quiet)
    await other.publish("py.echo", b"theirs")
    assert (await next_msg(sub, "the other client's")).data == b"theirs"
    await nothing_more(sub, "its own message with echo off")
    await quiet.close()
    await other.close()


async def main(url):
    for check in (wildcards, queue_groups, requests, headers_and_limits, drain_and_echo):
        try:
            await asyncio.wait_for(check(url), timeout=30)
        except Exception as e:  # noqa: BLE001 - every failure is reported with its check
            print(f"FAILED {check.__name__}: {type(e).__name__}: {e}")
            return 1
        print(f"ok {check.__name__}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
