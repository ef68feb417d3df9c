"""The fair virtual waiting room of a registration opening (docs/rush.md).

State lives in Redis, per tenant schema and opening (``<prefix>:wr:<schema>:<id>:<part>``):

- ``pre``: sorted set of families who joined before the opening. Each gets a random score in
  [0, 1) when it first joins (joining again, from another tab or device, keeps it), so the order
  of the pre-queue is a uniform random shuffle that does not depend on who came first; it is
  revealed at the opening, when the first ``advance`` moves the whole set into ``queue``.
- ``queue``: sorted set, the line. Later arrivals get ``1 + n`` (n from ``seq``): first in,
  first out, behind every early arrival.
- ``active``: family -> pass expiry (ms): families checking out now (their pass is live).
- ``passes``: family -> pass expiry (ms): one pass per family account.
- ``order`` / ``qscore`` / ``admitted_at``: admission order, the queue score each family had,
  when it was admitted (fairness and throughput figures, the estimated wait).
- ``bucket``: the token bucket of a fixed admission rate; ``paused``: staff paused the queue.

Admission (``advance``, one Lua script, atomic and cheap: a few O(log n) sorted-set
operations, driven by the families' own polls and joins so no scheduler is needed): with
``admit_per_minute`` set, a token bucket at that rate; otherwise *as fast as checkout can take
them*: a closed loop that keeps at most ``checkout_slots`` families checking out, so each
finished checkout (``family_checked_out``) or lapsed pass lets the next family in and the
admission rate is the measured checkout rate.

A pass is ``django.core.signing`` of (schema, opening, family, expiry): it is bound to the
family account and the tenant, and ``require_pass`` checks it before a cart add or checkout of
the opening's offerings. The poll ticket (``ticket_for``) is signed the same way so status polls
need no session or database.
"""

from __future__ import annotations

import functools
import logging
import math
import re
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.core import signing
from django.db import connection
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from kernel.errors import ApplicationError
from kernel.redis import redis_client as _redis
from kernel.redis import redis_key

from .models import RegistrationOpening

logger = logging.getLogger(__name__)

PASS_SALT = "portal.catalog.waiting_room.pass"  # noqa: S105 - a signing salt
TICKET_SALT = "portal.catalog.waiting_room.ticket"
CONFIG_TTL = 2.0  # seconds a process trusts its copy of an opening's settings
TICK_MS = 50
PARTS = (
    "pre", "queue", "shuffled", "active", "passes", "order", "qscore",
    "admitted_at", "bucket", "seq", "tick", "paused", "orderseq", "done", "lent",
)  # fmt: skip


@dataclass(frozen=True)
class OpeningConfig:
    id: int
    schema: str
    name: str
    opens_at: datetime
    ends_at: datetime | None
    admit_per_minute: int | None
    checkout_slots: int
    pass_minutes: int
    paused: bool

    @property
    def opens_ms(self) -> int:
        return int(self.opens_at.timestamp() * 1000)

    def in_effect(self, now: datetime) -> bool:
        return self.ends_at is None or now < self.ends_at


@dataclass(frozen=True)
class QueueStatus:
    state: str  # not_joined | before_opening | waiting | admitted | expired | paused | closed
    position: int | None = None  # 1 = next
    ahead: int | None = None
    estimated_wait_seconds: int | None = None
    seconds_to_open: int | None = None
    pass_token: str = ""
    pass_expires_at: datetime | None = None
    poll_seconds: int = 2  # when to ask again (``poll_seconds_for``)
    # About to be let in: its polls go ahead of the rest of the line (``FRONT_WAIT_SECONDS``).
    front: bool = False
    # Further back (in line or in the pre-queue): the family's order in the line, which never
    # changes while it waits (its score: the shuffle's for the pre-queue, arrival after), as
    # an integer (``order_of``); its ticket says so (``ticket_for(order=...)``), and the fair
    # worker answers a business's polls in that order.
    order: int | None = None
    # Waiting (or paused) while every class of the opening is full (``opening_full``): the
    # family keeps its place in case a seat opens up (a hold lapses, a payment fails), and is
    # told so at once instead of when its turn comes.
    all_full: bool = False


# How often a family should ask for its place: every second near the front (its place and the
# pass must show within 2 s), less often the further back it is (its estimate moves slowly), so
# 3,000 families in line cost the server hundreds of polls a second, not 1,500.
POLL_NEAR_SECONDS = 1  # estimated wait up to POLL_NEAR_WAIT
POLL_NEAR_WAIT = 15
POLL_MID_SECONDS = 2  # estimated wait up to POLL_MID_WAIT
POLL_MID_WAIT = 45
POLL_FAR_DIVISOR = 15  # beyond: a fifteenth of the estimated wait...
POLL_MAX_SECONDS = 20  # ...at most this
POLL_IDLE_SECONDS = 30  # admitted (the pass's expiry), expired, closed, not joined
# Waiting while every class of the opening is full: a seat comes back only when a hold lapses
# or a payment fails, so there is nothing to see every second (and thousands of families
# polling a sold-out line every second or two would cost the server more than the sale did).
POLL_FULL_SECONDS = 10
POLL_PAUSED_SECONDS = 5
# The front of the line: families let in within this many seconds by the estimate (or, before
# the opening, among those the opening lets in at once). Their polls carry a front ticket
# (``ticket_for(front=True)``), which the fair gunicorn worker serves in a lane of its own
# (``saas_platform.gunicorn_fair``): a family's pass shows within a second or two even while
# thousands of polls from further back wait their turn. A few dozen families, not hundreds:
# the lane is only quick while it is short.
FRONT_WAIT_SECONDS = 3
# Paced by checkout, how long a family let in holds its checkout slot before it has seen its
# pass; then the slot is lent to the next family (docs/rush.md, "A slot lent").
PICKUP_SECONDS = 5


def poll_seconds_for(
    state: str,
    *,
    estimated_wait: int | None = None,
    seconds_to_open: int | None = None,
    opening_stagger: int = 0,
    all_full: bool = False,
) -> int:
    """The cadence the server asks for, by place in line (docs/rush.md). Before the opening,
    ``opening_stagger``: how long after it the line can reach the family at the earliest
    (``opening_stagger_for``), so the families of the pre-queue do not all ask at once."""
    if state == "before_opening":
        # Ask again right at the opening (the shuffle is revealed then), at most every 10 s;
        # a family far back in the shuffle a little later (the line cannot reach it sooner).
        every = max(1, min(10, seconds_to_open or 1))
        if seconds_to_open is not None and every >= seconds_to_open:
            every = max(1, seconds_to_open + opening_stagger)
        return every
    if state == "waiting" and all_full:
        return POLL_FULL_SECONDS
    if state == "waiting":
        if estimated_wait is None or estimated_wait <= POLL_NEAR_WAIT:
            return POLL_NEAR_SECONDS
        if estimated_wait <= POLL_MID_WAIT:
            return POLL_MID_SECONDS
        return min(POLL_MAX_SECONDS, max(POLL_MID_SECONDS, estimated_wait // POLL_FAR_DIVISOR))
    if state == "paused":
        return POLL_PAUSED_SECONDS
    return POLL_IDLE_SECONDS


def opening_stagger_for(config: OpeningConfig, place: int) -> int:
    """Seconds after the opening before the line can reach ``place`` (1: the first after the
    shuffle) at the fastest it could go: a fixed rate's own pace after the token bucket's
    burst; or, paced by checkout, the first ``checkout_slots`` families at once and then, at
    the very fastest, as many again every second (a family needs longer than that to see its
    pass, choose and check out). At most ``POLL_MAX_SECONDS``."""
    if config.admit_per_minute:
        burst = max(1.0, config.admit_per_minute / 30)  # the advance script's bucket
        seconds = max(0.0, place - burst) * 60 / config.admit_per_minute
    else:
        seconds = (place - 1) // max(1, config.checkout_slots)
    return int(min(POLL_MAX_SECONDS, seconds))


def not_found() -> ApplicationError:
    return ApplicationError("opening_not_found", _("No such registration opening."), status=404)


# --- settings, cached per process --------------------------------------------------------

_configs: dict[tuple[str, int], tuple[float, OpeningConfig]] = {}
_configs_lock = threading.Lock()


def _snapshot(opening: RegistrationOpening) -> OpeningConfig:
    return OpeningConfig(
        id=opening.pk,
        schema=connection.schema_name,
        name=opening.name,
        opens_at=opening.opens_at,
        ends_at=opening.ends_at,
        admit_per_minute=opening.admit_per_minute,
        checkout_slots=opening.checkout_slots,
        pass_minutes=opening.pass_minutes,
        paused=opening.paused,
    )


def opening_config(opening_id: int) -> OpeningConfig:
    """An opening's settings, from this process's copy when it is under ``CONFIG_TTL`` old
    (status polls then run no SQL)."""
    key = (connection.schema_name, opening_id)
    now = time.monotonic()
    hit = _configs.get(key)
    if hit and hit[0] > now:
        return hit[1]
    opening = RegistrationOpening.objects.filter(pk=opening_id).first()
    if opening is None:
        raise not_found()
    config = _snapshot(opening)
    with _configs_lock:
        _configs[key] = (now + CONFIG_TTL, config)
    return config


def configs_clear() -> None:
    _configs.clear()
    _gated.clear()
    _full.clear()


# --- Redis ----------------------------------------------------------------------------------


def _keys(config: OpeningConfig) -> dict[str, str]:
    return _keys_for(redis_key(), config.schema, config.id)


@functools.lru_cache(maxsize=4096)
def _keys_for(prefix: str, schema: str, opening_id: int) -> dict[str, str]:
    # Cached per (key prefix, schema, opening): a poll builds no key strings. Callers only read.
    return {part: ":".join((prefix, "wr", schema, str(opening_id), part)) for part in PARTS}


ADVANCE_KEYS = (
    "pre", "queue", "shuffled", "active", "passes", "order", "qscore",
    "admitted_at", "bucket", "tick", "paused", "orderseq", "done", "lent",
)  # fmt: skip


# The admission step, shared by the three scripts below (``_ADVANCE``, ``_STATUS``, ``_JOIN``:
# a Lua function of their keys and arguments); returns how many families it let in.
# KEYS: pre queue shuffled active passes order qscore admitted_at bucket tick paused orderseq
# done lent
# ARGV: now_ms opens_ms rate_per_minute(0: follow checkout) slots pass_ms all_full(1/0)
# A family let in holds a checkout slot (``active``, scored by when it stops holding it) for
# ``PICKUP_SECONDS`` only, until it has seen its pass (``_STATUS_READ`` then holds the slot
# until the pass lapses or the family checks out). A family that has not looked by then keeps
# its pass, and its slot is lent to the next family (``lent``, scored by the pass's expiry);
# at most ``slots`` are lent at once (beyond that, lent slots count as taken), so no more than
# twice ``slots`` families ever hold a pass they have not used.
_ADVANCE_STEP = """
local function advance()
  local now = tonumber(ARGV[1])
  local opens = tonumber(ARGV[2])
  local rate = tonumber(ARGV[3])
  local slots = tonumber(ARGV[4])
  local pass_ms = tonumber(ARGV[5])
  if now < opens then return 0 end
  if redis.call('SET', KEYS[3], '1', 'NX') then
    redis.call('ZUNIONSTORE', KEYS[2], 2, KEYS[2], KEYS[1])
  end
  local lapsed = redis.call('ZRANGEBYSCORE', KEYS[4], '-inf', now)
  if #lapsed > 0 then
    for i = 1, #lapsed do
      local pass = tonumber(redis.call('HGET', KEYS[5], lapsed[i]) or '0')
      if pass > now then redis.call('ZADD', KEYS[14], pass, lapsed[i]) end
    end
    redis.call('ZREMRANGEBYSCORE', KEYS[4], '-inf', now)
  end
  redis.call('ZREMRANGEBYSCORE', KEYS[14], '-inf', now)
  local paused = redis.call('EXISTS', KEYS[11]) == 1
  local n = 0
  local tokens = 0
  if rate > 0 then
    local b = redis.call('HMGET', KEYS[9], 'tokens', 'last')
    tokens = tonumber(b[1]) or 0
    local last = tonumber(b[2]) or opens
    if not paused then
      local cap = math.max(1, rate / 30)
      tokens = math.min(cap, tokens + (now - last) * rate / 60000)
    end
    n = math.floor(tokens)
  else
    n = slots - redis.call('ZCARD', KEYS[4]) - math.max(0, redis.call('ZCARD', KEYS[14]) - slots)
  end
  -- ARGV[6] '1': every class of the opening is full; a pass would buy nothing, so the line
  -- waits (its families are told so) until a seat opens up.
  if paused or n <= 0 or ARGV[6] == '1' then
    if rate > 0 then redis.call('HSET', KEYS[9], 'tokens', tokens, 'last', now) end
    return 0
  end
  local popped = redis.call('ZPOPMIN', KEYS[2], n)
  local count = 0
  for i = 1, #popped, 2 do
    local fam = popped[i]
    local expiry = now + pass_ms
    redis.call('ZADD', KEYS[4], math.min(expiry, now + PICKUP_MS), fam)
    redis.call('HSET', KEYS[5], fam, expiry)
    redis.call('ZADD', KEYS[6], redis.call('INCR', KEYS[12]), fam)
    redis.call('HSET', KEYS[7], fam, popped[i + 1])
    redis.call('ZADD', KEYS[8], now, fam)
    count = count + 1
  end
  if rate > 0 then redis.call('HSET', KEYS[9], 'tokens', tokens - count, 'last', now) end
  return count
end
"""

_ADVANCE_STEP = _ADVANCE_STEP.replace("PICKUP_MS", str(int(PICKUP_SECONDS * 1000)))
_ADVANCE = _ADVANCE_STEP + "return advance()\n"

# A family's status in one round trip: the admission step, then this family's pass expiry,
# place in line, place in the pre-queue, the pause flag, the admissions since ARGV[8] (the
# rate's window) and its score in the line or the pre-queue (its order, ``order_of``). KEYS as
# ``_ADVANCE``; ARGV as ``_ADVANCE``, then family, rate_since_ms. A missing value comes back as
# None (Lua false).
_STATUS_READ = """
advance()
local fam = ARGV[7]
local pass = tonumber(redis.call('HGET', KEYS[5], fam) or '0')
if pass > tonumber(ARGV[1]) and tonumber(redis.call('ZSCORE', KEYS[4], fam) or '0') < pass
    and not redis.call('ZSCORE', KEYS[13], fam) then
  -- The family sees its pass now: it holds its checkout slot until the pass lapses or it
  -- checks out. One that comes after its slot was lent takes one again, beyond ``slots`` for a
  -- while: the line waits for the count to come back under.
  redis.call('ZADD', KEYS[4], pass, fam)
  redis.call('ZREM', KEYS[14], fam)
end
return {
  redis.call('HGET', KEYS[5], fam),
  redis.call('ZRANK', KEYS[2], fam),
  redis.call('ZRANK', KEYS[1], fam),
  redis.call('EXISTS', KEYS[11]),
  redis.call('ZCOUNT', KEYS[8], ARGV[8], '+inf'),
  redis.call('ZSCORE', KEYS[2], fam) or redis.call('ZSCORE', KEYS[1], fam),
}
"""
_STATUS = _ADVANCE_STEP + _STATUS_READ

# Joining, then the status as ``_STATUS`` reads it, in one round trip (idempotent per family:
# tabs and devices share one place; a pass still good is kept; a family whose pass lapsed joins
# at the back again). KEYS as ``_ADVANCE``, then seq; ARGV as ``_STATUS``, then the family's
# random score for the pre-queue.
_JOIN = (
    _ADVANCE_STEP
    + """
local function join(fam, now)
  local expiry = tonumber(redis.call('HGET', KEYS[5], fam) or '0')
  if expiry > now then return end
  if expiry > 0 then
    redis.call('HDEL', KEYS[5], fam)
    redis.call('ZREM', KEYS[4], fam)
  elseif redis.call('ZSCORE', KEYS[2], fam) then
    return
  end
  if redis.call('EXISTS', KEYS[3]) == 0 then
    if expiry == 0 and (now < tonumber(ARGV[2]) or redis.call('ZSCORE', KEYS[1], fam)) then
      redis.call('ZADD', KEYS[1], 'NX', ARGV[9], fam)
      return
    end
  end
  redis.call('ZADD', KEYS[2], 'NX', 1 + redis.call('INCR', KEYS[15]), fam)
end
join(ARGV[7], tonumber(ARGV[1]))
"""
    + _STATUS_READ
)


class _Scripts:
    advance: Any = None
    join: Any = None
    status: Any = None


def _scripts():
    """This request's Redis client, the scripts registered once per process (they are always
    called with an explicit client, so a test or a reconnect that changes the client is
    followed; redis-py loads a script again if the server lost it)."""
    client = _redis()
    if _Scripts.advance is None:
        _Scripts.advance = client.register_script(_ADVANCE)
        _Scripts.join = client.register_script(_JOIN)
        _Scripts.status = client.register_script(_STATUS)
    return client


def _advance_args(config: OpeningConfig, now: datetime, full: bool) -> list:
    return [
        _now_ms(now),
        config.opens_ms,
        config.admit_per_minute or 0,
        config.checkout_slots,
        config.pass_minutes * 60_000,
        1 if full else 0,
    ]


def _now_ms(now: datetime) -> int:
    return int(now.timestamp() * 1000)


def advance(config: OpeningConfig, now: datetime) -> int:
    """Let in whoever may come in now; returns how many."""
    client = _scripts()
    k = _keys(config)
    return int(
        _Scripts.advance(
            keys=[k[p] for p in ADVANCE_KEYS],
            args=_advance_args(config, now, opening_full(config)),
            client=client,
        )
    )


def _opened(config: OpeningConfig, now: datetime) -> bool:
    return now >= config.opens_at


# --- tickets and passes --------------------------------------------------------------------


# A front ticket: this prefix and the plain ticket, signed together (so the prefix cannot be
# added to a ticket by hand), readable from the request's bytes before anything is decoded.
FRONT_PREFIX = "front:"
FRONT_SALT = TICKET_SALT + ".front"
# A line ticket: ``line<order>:`` and the plain ticket, signed together: the family's order in
# the line (``QueueStatus.order``), read from the request's bytes by the fair worker, which
# answers a business's polls in that order instead of as they came (twenty-seventh pass: a
# plain poll waited ~10 s behind the others while seats were sold, so a family let in
# meanwhile learnt it 6-9 s late, its checkout slot idle). The order never changes while the
# family waits, so the ticket is given once, with the join or the first answer that has it.
ORDER_PREFIX = "line"
ORDER_SALT = TICKET_SALT + ".line"
_ORDER = re.compile(r"line(\d{1,15}):")
# The line's scores (the shuffle's in [0, 1), then 2, 3, ... for later arrivals) as integers.
ORDER_SCALE = 1_000_000


def order_of(score) -> int | None:
    """A family's order in the line from its score in the line's sorted set (Redis's reply:
    bytes or a number); None without one."""
    if score is None or score is False:
        return None
    return int(float(score) * ORDER_SCALE)


def ticket_for(
    config: OpeningConfig, family_id: int, *, front: bool = False, order: int | None = None
) -> str:
    """The family's signed poll ticket; ``front``: the front of the line's
    (``FRONT_WAIT_SECONDS``); ``order``: further back, its order in the line (``order_of``)."""
    plain = signing.dumps({"s": config.schema, "o": config.id, "f": family_id}, salt=TICKET_SALT)
    if front:
        return signing.Signer(salt=FRONT_SALT).sign(FRONT_PREFIX + plain)
    if order is not None:
        return signing.Signer(salt=ORDER_SALT).sign(f"{ORDER_PREFIX}{int(order)}:{plain}")
    return plain


def is_front_ticket(ticket: str) -> bool:
    return ticket.startswith(FRONT_PREFIX)


def ticket_order(ticket: str) -> int | None:
    """The order a line ticket says (its signature is checked where it is used,
    ``family_from_ticket``); None for any other ticket."""
    found = _ORDER.match(ticket)
    return int(found[1]) if found else None


def ticket_update(config: OpeningConfig, family_id: int, ticket: str, result: QueueStatus) -> str:
    """The ticket the family should poll with from now on when its place moved into or out of
    the front of the line, or its order in the line is not the one its ticket says (the answer
    carries it); "" when the one it sent is still right."""
    front, order = is_front_ticket(ticket), ticket_order(ticket)
    if result.front:
        still = front
    elif result.order is not None:
        still = order == result.order
    else:
        still = not front and order is None
    if still:
        return ""
    return ticket_for(config, family_id, front=result.front, order=result.order)


def family_from_ticket(config: OpeningConfig, ticket: str) -> int | None:
    try:
        if is_front_ticket(ticket):
            ticket = signing.Signer(salt=FRONT_SALT).unsign(ticket)[len(FRONT_PREFIX) :]
        elif (found := _ORDER.match(ticket)) is not None:
            ticket = signing.Signer(salt=ORDER_SALT).unsign(ticket)[found.end() :]
        data = signing.loads(ticket, salt=TICKET_SALT)
    except signing.BadSignature:
        return None
    if data.get("s") != config.schema or data.get("o") != config.id:
        return None
    family = data.get("f")
    return family if isinstance(family, int) else None


def _pass_token(config: OpeningConfig, family_id: int, expiry_ms: int) -> str:
    return signing.dumps(
        {"s": config.schema, "o": config.id, "f": family_id, "x": expiry_ms}, salt=PASS_SALT
    )


def pass_required_error(opening: RegistrationOpening | OpeningConfig, now: datetime):
    local = timezone.localtime(opening.opens_at)
    when = local.strftime("%Y-%m-%d %H:%M")
    if now < opening.opens_at:
        message = _(
            "Registration for %(name)s opens at %(when)s. Join the waiting room: families who "
            "join before then are put in a random order at the opening."
        ) % {"name": opening.name, "when": when}
    else:
        message = _(
            "Registration for %(name)s goes through the waiting room: join the line and you "
            "will get a pass when it is your turn."
        ) % {"name": opening.name}
    return ApplicationError(
        "waiting_room_pass_required",
        message,
        status=403,
        fields={"opening": [str(opening.pk if hasattr(opening, "pk") else opening.id)]},
    )


_gated: dict[str, tuple[float, dict[int, tuple[int, ...]]]] = {}


def gated_offerings_clear(schema: str | None = None) -> None:
    """Forget this process's copy (a model signal calls it when an opening changes)."""
    if schema is None:
        _gated.clear()
    else:
        _gated.pop(schema, None)


def _gated_offerings() -> dict[int, tuple[int, ...]]:
    """Offering id -> ids of the openings not yet ended it is in, per process for
    ``CONFIG_TTL`` seconds: a cart add or checkout of other offerings (nearly all of them,
    nearly always) then runs no query for the waiting room, and one of an opening's offerings
    reads the opening from its per-process copy (``opening_config``). An opening saved in this
    process is seen at once (signal), one saved in another within ``CONFIG_TTL``."""
    schema = connection.schema_name
    now = time.monotonic()
    hit = _gated.get(schema)
    if hit and hit[0] > now:
        return hit[1]
    gated: dict[int, tuple[int, ...]] = {}
    for offering_id, opening_id in RegistrationOpening.offerings.through.objects.filter(
        Q(registrationopening__ends_at__isnull=True)
        | Q(registrationopening__ends_at__gt=timezone.now())
    ).values_list("offering_id", "registrationopening_id"):
        gated[offering_id] = (*gated.get(offering_id, ()), opening_id)
    # Read inside a transaction that later rolls back, the copy can only hold openings too
    # many (``openings_in_effect`` skips one it cannot find), never too few: a new opening
    # clears it (signal).
    _gated[schema] = (now + CONFIG_TTL, gated)
    return gated


_full: dict[tuple[str, int], tuple[float, bool]] = {}


def opening_full(config: OpeningConfig) -> bool:
    """Every class of the opening is full right now (holds count: a family checking out holds
    its seat), by the availability cache (``portal.catalog.availability``), per process for
    ``CONFIG_TTL`` seconds: thousands of polls a second cost each process one read every
    ``CONFIG_TTL`` (threads that miss together each read; at most a worker's threads). An
    opening without classes is never full."""
    from .availability import availability_by_ids

    key = (config.schema, config.id)
    now = time.monotonic()
    hit = _full.get(key)
    if hit and hit[0] > now:
        return hit[1]
    ids = [offering for offering, openings in _gated_offerings().items() if config.id in openings]
    full = bool(ids) and all(a.is_full for a in availability_by_ids(ids).values())
    _full[key] = (now + CONFIG_TTL, full)
    return full


def openings_in_effect(offering_ids, now: datetime) -> list[OpeningConfig]:
    """The openings in effect at ``now`` that any of these offerings is in, first opened
    first; from this process's copies (no query when they are warm)."""
    gated = _gated_offerings()
    opening_ids = {o for i in offering_ids for o in gated.get(i, ())}
    if not opening_ids:
        return []
    found = []
    for opening_id in opening_ids:
        try:
            config = opening_config(opening_id)
        except ApplicationError:  # deleted since (the copy was read before)
            continue
        if config.in_effect(now):
            found.append(config)
    return sorted(found, key=lambda config: (config.opens_at, config.id))


def _live_pass_data(token: str, *, schema: str, now: datetime) -> dict | None:
    """What the pass ``token`` says, if this platform signed it for a family of ``schema`` and
    it has not lapsed; None otherwise."""
    if not token:
        return None
    try:
        data = signing.loads(token, salt=PASS_SALT)
    except signing.BadSignature:
        return None
    if (
        isinstance(data, dict)
        and data.get("s") == schema
        and isinstance(data.get("x"), int)
        and data["x"] > _now_ms(now)
    ):
        return data
    return None


def pass_live(token: str, *, schema: str, now: datetime) -> bool:
    """Whether ``token`` is a pass this platform signed for a family of ``schema`` that has not
    lapsed: what admission control checks before it spares a request from shedding (the pass's
    signature only: no Redis, no query). ``require_pass`` checks the rest (the family, the
    opening, the pass still the family's current one) before a hold or checkout."""
    return _live_pass_data(token, schema=schema, now=now) is not None


def require_pass(*, offering_ids, family_id: int, token: str, now: datetime) -> list[OpeningConfig]:
    """Refuse (``waiting_room_pass_required``, 403) a cart add or checkout of an offering in an
    opening in effect, unless ``token`` is a live pass of this family for that opening.
    Returns the openings concerned (from the per-process copies: no query when warm)."""
    openings = openings_in_effect(offering_ids, now)
    if not openings:
        return []
    data = _live_pass_data(token, schema=connection.schema_name, now=now)
    for opening in openings:
        if (
            data is None
            or data.get("o") != opening.id
            or data.get("f") != family_id
            or not _pass_current(opening, family_id, data["x"])
        ):
            raise pass_required_error(opening, now)
    return openings


def _pass_current(opening: OpeningConfig, family_id: int, expiry_ms: int) -> bool:
    """The pass is still the family's one pass (not replaced by joining again, not ended early
    by staff). Redis unreachable: the signature and expiry already checked are enough."""
    try:
        stored = _redis().hget(_keys(opening)["passes"], str(family_id))
    except Exception as exc:
        logger.warning("waiting room: pass not checked against Redis (%s)", exc)
        return True
    return stored is not None and int(float(stored)) == expiry_ms


def family_checked_out(
    *,
    family_id: int,
    openings: list[OpeningConfig] | list[RegistrationOpening],
    now: datetime | None = None,
) -> None:
    """A family with a pass finished checking out: its checkout slot goes to the next family
    (the closed loop). Call after commit. Redis trouble is logged, never raised."""
    now = now or timezone.now()
    try:
        client = _redis()
        for opening in openings:
            k = _keys(opening if isinstance(opening, OpeningConfig) else _snapshot(opening))
            pipe = client.pipeline(transaction=False)
            pipe.zrem(k["active"], str(family_id))
            pipe.zrem(k["lent"], str(family_id))
            pipe.zadd(k["done"], {str(family_id): _now_ms(now)})
            pipe.execute()
    except Exception as exc:  # a slot then frees when the pass lapses
        logger.warning("waiting room: could not free a checkout slot (%s)", exc)


def queue_leave(*, opening_id: int, family_id: int) -> None:
    """The family gives up its place, or its pass and checkout slot (it found nothing left, or
    is done): the slot goes to the next family at once instead of when the pass lapses. It may
    join again, at the back."""
    config = opening_config(opening_id)
    k = _keys(config)
    fam = str(family_id)
    pipe = _redis().pipeline(transaction=True)
    pipe.zrem(k["active"], fam)
    pipe.zrem(k["lent"], fam)
    pipe.hdel(k["passes"], fam)
    pipe.zrem(k["queue"], fam)
    pipe.zrem(k["pre"], fam)
    pipe.execute()


# --- the family's side ---------------------------------------------------------------------


def queue_join(*, opening_id: int, family_id: int, now: datetime | None = None) -> QueueStatus:
    """Join the line (idempotent per family: tabs and devices share one place)."""
    now = now or timezone.now()
    config = opening_config(opening_id)
    if not config.in_effect(now):
        raise ApplicationError(
            "opening_closed",
            _("Registration for %(name)s has ended.") % {"name": config.name},
            status=409,
        )
    client = _scripts()
    k = _keys(config)
    score = secrets.randbelow(2**52) / 2**52
    full = opening_full(config)
    read = _Scripts.join(
        keys=[*(k[p] for p in ADVANCE_KEYS), k["seq"]],
        args=[
            *_advance_args(config, now, full),
            str(family_id),
            _rate_since(config, now),
            repr(score),
        ],
        client=client,
    )
    return _status_from(config, family_id, now, read, full)


RATE_WINDOW_MS = 30_000
RATE_WARMUP_SECONDS = 5  # a measure over less than this is not used
# Until then, paced by checkout: as if each admitted family took this long to see its pass,
# choose and check out. Optimistic on purpose: an estimate too short makes a family ask a few
# more times (a poll costs the server about a millisecond), one too long makes it ask again
# only after it was let in (its checkout slot idle meanwhile, the line slower for everyone).
# The pass length (the floor below) told the families of the opening's first seconds to come
# back in 20 s, and many were let in long before that (docs/rush.md).
CHECKOUT_PRIOR_SECONDS = 10


def _rate_since(config: OpeningConfig, now: datetime) -> int:
    return max(config.opens_ms, _now_ms(now) - RATE_WINDOW_MS)


def _rate_from(config: OpeningConfig, now: datetime, admitted_since: int) -> float:
    """Admissions a second: the fixed rate, or those of the last 30 s (``admitted_since``
    counted from ``_rate_since``)."""
    if config.admit_per_minute:
        return config.admit_per_minute / 60
    span = (_now_ms(now) - _rate_since(config, now)) / 1000
    # Never slower than every admitted family using its whole pass.
    floor = config.checkout_slots / (config.pass_minutes * 60)
    if span >= RATE_WARMUP_SECONDS:
        return max(floor, admitted_since / span)
    return max(floor, config.checkout_slots / CHECKOUT_PRIOR_SECONDS)


def _rate_per_second(config: OpeningConfig, client, k, now: datetime) -> float:
    measured = 0
    if not config.admit_per_minute:
        measured = client.zcount(k["admitted_at"], _rate_since(config, now), "+inf")
    return _rate_from(config, now, measured)


def queue_status(*, opening_id: int, family_id: int, now: datetime | None = None) -> QueueStatus:
    """Where the family stands; lets in whoever may come in first. No SQL (cached settings)."""
    now = now or timezone.now()
    config = opening_config(opening_id)
    if not config.in_effect(now):
        return QueueStatus(state="closed", poll_seconds=POLL_IDLE_SECONDS)
    client = _scripts()
    k = _keys(config)
    # One round trip: let in whoever may come in, then read this family's place and the rate.
    # Before the opening the script's admission step does nothing.
    full = opening_full(config)
    read = _Scripts.status(
        keys=[k[p] for p in ADVANCE_KEYS],
        args=[
            *_advance_args(config, now, full),
            str(family_id),
            _rate_since(config, now),
        ],
        client=client,
    )
    return _status_from(config, family_id, now, read, full)


def _status_from(
    config: OpeningConfig, family_id: int, now: datetime, read: list, full: bool
) -> QueueStatus:
    """The family's status from what ``_STATUS`` (or ``_JOIN``) read; ``full``: every class of
    the opening is full (``opening_full``), so the line waits and says so."""
    expiry, rank, pre, paused, admitted_since, score = read
    now_ms = _now_ms(now)
    if expiry is not None:
        expiry = int(float(expiry))
        if expiry > now_ms:
            return QueueStatus(
                state="admitted",
                pass_token=_pass_token(config, family_id, expiry),
                pass_expires_at=datetime.fromtimestamp(expiry / 1000, tz=UTC),
                poll_seconds=POLL_IDLE_SECONDS,
            )
        return QueueStatus(state="expired", poll_seconds=POLL_IDLE_SECONDS)
    # Before the opening by this request's clock, unless the family is already in the line:
    # another process, whose clock read a few milliseconds later, ran the opening's shuffle
    # between this request's reading of the time and its join, which then queued it in order.
    if not _opened(config, now) and rank is None:
        to_open = math.ceil((config.opens_ms - now_ms) / 1000)
        if pre is None:
            return QueueStatus(
                state="not_joined", seconds_to_open=to_open, poll_seconds=POLL_IDLE_SECONDS
            )
        stagger = opening_stagger_for(config, pre + 1)
        return QueueStatus(
            state="before_opening",
            seconds_to_open=to_open,
            poll_seconds=poll_seconds_for(
                "before_opening", seconds_to_open=to_open, opening_stagger=stagger
            ),
            front=stagger == 0,  # let in at the opening itself
            order=None if stagger == 0 else order_of(score),
        )
    if rank is None:
        if pre is not None:  # the shuffle has not run yet (another process's tick)
            return QueueStatus(state="waiting", poll_seconds=POLL_NEAR_SECONDS)
        return QueueStatus(state="not_joined", poll_seconds=POLL_IDLE_SECONDS)
    rate = _rate_from(config, now, admitted_since)
    wait = math.ceil((rank + 1) / rate) if rate > 0 else None
    state = "paused" if paused else "waiting"
    front = state == "waiting" and not full and wait is not None and wait <= FRONT_WAIT_SECONDS
    return QueueStatus(
        state=state,
        position=rank + 1,
        ahead=rank,
        # Nobody is let in while every class is full: no estimate to give.
        estimated_wait_seconds=None if full else wait,
        poll_seconds=poll_seconds_for(state, estimated_wait=wait, all_full=full),
        front=front,
        order=None if front else order_of(score),
        all_full=full,
    )


# --- staff ----------------------------------------------------------------------------------


def queue_overview(*, opening: RegistrationOpening, now: datetime | None = None) -> dict:
    """The live queue for staff: counts, rate, paused."""
    now = now or timezone.now()
    config = _snapshot(opening)
    client = _scripts()
    k = _keys(config)
    if _opened(config, now) and config.in_effect(now):
        advance(config, now)
    now_ms = _now_ms(now)
    pipe = client.pipeline(transaction=False)
    pipe.zcard(k["pre"])
    pipe.zcard(k["queue"])
    pipe.zcount(k["active"], now_ms, "+inf")
    pipe.zcard(k["order"])
    pipe.zcard(k["done"])
    pipe.exists(k["paused"])
    pipe.zcount(k["admitted_at"], now_ms - 60_000, "+inf")
    pre, waiting, active, admitted, done, paused, last_minute = pipe.execute()
    opened = _opened(config, now)
    return {
        "opened": opened,
        # Every class full: nobody is let in until a seat opens up (``opening_full``).
        "all_full": opened and config.in_effect(now) and opening_full(config),
        "pre_queue": 0 if opened else pre,
        "waiting": waiting if opened else 0,
        "checking_out": active,
        "admitted": admitted,
        "checked_out": done,
        "admitted_last_minute": last_minute,
        "paused": bool(paused),
        "estimated_rate_per_minute": round(_rate_per_second(config, client, k, now) * 60, 1),
    }


def opening_pause(*, opening: RegistrationOpening, paused: bool) -> RegistrationOpening:
    """Stop (or resume) letting families in. Passes already given stay valid."""
    opening.paused = paused
    opening.save(update_fields=["paused"])
    key = _keys(_snapshot(opening))["paused"]
    client = _redis()
    if paused:
        client.set(key, "1")
    else:
        client.delete(key)
    _configs.pop((connection.schema_name, opening.pk), None)
    logger.info("registration opening %s %s", opening.pk, "paused" if paused else "resumed")
    return opening


def queue_clear(*, opening: RegistrationOpening) -> None:
    """Forget an opening's queue (tests, and staff deleting an opening)."""
    k = _keys(_snapshot(opening))
    _redis().delete(*k.values())
    _configs.pop((connection.schema_name, opening.pk), None)


def admission_log(*, opening: RegistrationOpening) -> list[tuple[str, float]]:
    """(family, queue score) in admission order: the fairness figure of the benchmark."""
    client = _redis()
    k = _keys(_snapshot(opening))
    order = client.zrange(k["order"], 0, -1)
    scores = client.hmget(k["qscore"], order) if order else []
    return [(f.decode(), float(s)) for f, s in zip(order, scores, strict=True)]


def admission_times(*, opening: RegistrationOpening) -> dict[str, float]:
    """When each admitted family was let in (epoch seconds, the admitting poll's clock): the
    benchmark's admission-to-seen delay."""
    k = _keys(_snapshot(opening))
    return {
        family.decode(): score / 1000
        for family, score in _redis().zrange(k["admitted_at"], 0, -1, withscores=True)
    }
