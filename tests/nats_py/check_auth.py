"""Checks the hub's users on its nats:// listener with the official Python client, nats-py.

Usage: python3 check_auth.py nats://127.0.0.1:PORT

The hub has the users of `hub_with_users` in tests/nats_py_and_js_clients.rs: `writer`/`quill`
may publish and subscribe under `news`, the token `reader-token-0123456789` may only subscribe
under `news`. Exits 0 when every check passes; otherwise prints the failed check and exits 1.
Run by tests/nats_py_and_js_clients.rs.
"""

import asyncio
import sys
import traceback

import nats
from nats.errors import TimeoutError as NatsTimeout

WAIT = 10.0


async def connect(url, errors=None, **credentials):
    async def on_error(e):
        if errors is not None:
            errors.put_nowait(str(e))

    return await nats.connect(
        url,
        allow_reconnect=False,
        max_reconnect_attempts=0,
        connect_timeout=WAIT,
        error_cb=on_error,
        **credentials,
    )


async def in_force(nc):
    """Waits until the subscriptions `nc` sent are in force at the hub. nats-py 2.16's flush()
    writes its PING to the socket at once, ahead of a SUB still queued for its flusher task
    (seen with strace: PING, then SUB); a PING read alone is answered at once, by the hub as
    by nats-server. The second PING follows the SUB, and its PONG comes after the SUB."""
    await nc.flush(timeout=WAIT)
    await nc.flush(timeout=WAIT)


async def refused(url, **credentials):
    try:
        nc = await connect(url, **credentials)
    except Exception as e:  # nats-py raises its own error types, or the last socket error
        return str(e)
    await nc.close()
    raise AssertionError(f"admitted with {sorted(credentials)}")


async def password_and_token(url):
    writer = await connect(url, user="writer", password="quill")
    reader = await connect(url, token="reader-token-0123456789")
    sub = await reader.subscribe("news.py")
    await in_force(reader)
    await writer.publish("news.py", b"hello")
    m = await sub.next_msg(timeout=WAIT)
    assert m.data == b"hello", m
    await writer.close()
    await reader.close()


async def wrong_credentials(url):
    for credentials in (
        {"user": "writer", "password": "wrong"},
        {"token": "not-the-token"},
        {},
    ):
        error = await refused(url, **credentials)
        assert "authorization violation" in error.lower(), (credentials, error)


async def denied_publish_and_subscribe(url):
    errors = asyncio.Queue()
    reader = await connect(url, errors, token="reader-token-0123456789")
    await reader.publish("news.fake", b"no")
    await reader.flush(timeout=WAIT)
    error = await asyncio.wait_for(errors.get(), WAIT)
    assert 'permissions violation for publish to "news.fake"' in error.lower(), error
    await reader.subscribe("secret.>")
    await reader.flush(timeout=WAIT)
    error = await asyncio.wait_for(errors.get(), WAIT)
    assert 'permissions violation for subscription to "secret.>"' in error.lower(), error
    # Still connected: PING/PONG goes on, the grant still works.
    assert reader.is_connected
    sub = await reader.subscribe("news.after")
    await in_force(reader)
    writer = await connect(url, user="writer", password="quill")
    await writer.publish("news.after", b"still here")
    assert (await sub.next_msg(timeout=WAIT)).data == b"still here"
    await writer.close()
    await reader.close()


async def main(url):
    for check in (password_and_token, wrong_credentials, denied_publish_and_subscribe):
        try:
            await asyncio.wait_for(check(url), timeout=30)
        except (Exception, NatsTimeout) as e:
            where = traceback.extract_tb(e.__traceback__)
            line = next((f.lineno for f in reversed(where) if f.filename == __file__), "?")
            print(f"FAILED {check.__name__} (line {line}): {type(e).__name__}: {e}")
            return 1
        print(f"ok {check.__name__}")
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(sys.argv[1])))
