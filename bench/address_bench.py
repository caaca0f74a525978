"""Chinese one-line addresses (issue 17): what parsing costs, alone and in the batch intake path.

- **Addresses parsed** — 1,000 distinct one-line addresses drawn from the division list (province,
  city, district, street, number; some without the province, some with the short names) through
  ``orders.intake.address_cn.parse_address`` with a cold cache, next to ``jionlp.parse_location``
  on the first 100 of them (the package's own parser, the baseline the matcher replaces).
- **Orders through the batch path** — 1,000 orders (``orders.intake.bulk.create_batch``, batches of
  1,000, as file imports and the API's inbox apply them) whose address is one line with empty
  province/city/district (each parsed, filled, an event written), next to the same orders with every
  part given in Latin letters (nothing parsed). Best of 3 each, fresh external ids per round.

Sizes with ``--quick``: 200 addresses, 20 for jionlp, 200 orders.
"""

import contextlib
import io
import random
import time

from bench.common import best_of, require_postgresql

NEEDS = ("postgresql",)


def addresses(n: int, seed: int = 17) -> list[str]:
    from oms.cn_divisions import DISTRICT, divisions

    index = divisions()
    districts = [d for d in index.by_code.values() if d.level == DISTRICT]
    rnd = random.Random(seed)
    streets = ("人民路", "中山路", "解放大道", "建设北路", "科技园南区科苑路")
    out = []
    while len(out) < n:
        d = rnd.choice(districts)
        street = f"{rnd.choice(streets)}{rnd.randint(1, 999)}号{rnd.randint(1, 30)}栋{rnd.randint(101, 2808)}室"
        shape = rnd.random()
        if shape < 0.5:
            text = f"{d.province}{d.city if d.city != d.province else ''}{d.name}{street}"
        elif shape < 0.8:
            text = f"{d.city}{d.name}{street}"  # no province
        else:
            text = f"{d.province} {d.city} {d.name} {street}"
        if text not in out:
            out.append(text)
    return out


def run(report, quick: bool) -> None:
    require_postgresql()
    from decimal import Decimal

    from orders.intake import address_cn
    from orders.intake.bulk import create_batch
    from orders.intake.canonical import CanonicalAddress, CanonicalLine, CanonicalOrder
    from orders.models import Channel, Order

    n = 200 if quick else 1_000
    texts = addresses(n)
    address_cn.parse_address(texts[0])  # the division list loaded (once per process), not timed
    address_cn.cache_clear()
    start = time.perf_counter()
    results = [address_cn.parse_address(t) for t in texts]
    ours = (time.perf_counter() - start) / n
    resolved = sum(r.ok for r in results)
    with contextlib.redirect_stdout(io.StringIO()):
        import jionlp
    few = texts[: n // 10]
    jionlp.parse_location(few[0], town_village=False)
    start = time.perf_counter()
    for t in few:
        jionlp.parse_location(t, town_village=False)
    theirs = (time.perf_counter() - start) / len(few)
    report.note(f"{n} distinct addresses, {resolved} resolved; jionlp on {len(few)} of them")
    report.figure(
        "address parsed (cold cache)",
        ours * 1e6,
        "µs",
        baseline=("jionlp.parse_location", theirs * 1e6),
        addresses=n,
        resolved=resolved,
    )

    channel, _ = Channel.objects.get_or_create(slug="bench-cn", defaults={"name": "Bench CN"})

    def orders(prefix: str, one_line: bool) -> list:
        items = []
        for i, text in enumerate(texts):
            if one_line:
                ship = CanonicalAddress(name="王五", phone="13600136000", country="CN", address1=text)
            else:
                ship = CanonicalAddress(
                    name="Wang Wu",
                    phone="13600136000",
                    country="CN",
                    province="Hunan",
                    city="Changsha",
                    district="Yuelu",
                    address1=f"{i} Lushan South Road",
                )
            line = CanonicalLine(sku="BENCH-CN", quantity=1, unit_price=Decimal("10.00"))
            items.append((i, CanonicalOrder(external_id=f"{prefix}{i}", ship_to=ship, lines=[line])))
        return items

    def intake(i: int, one_line: bool) -> None:
        address_cn.cache_clear()
        items = orders(f"{'cn' if one_line else 'latin'}-{i}-", one_line)
        create_batch(channel=channel, items=items, source="bench")

    parsed = n / best_of(lambda i: intake(i, True), 3)
    plain = n / best_of(lambda i: intake(i, False), 3)
    held = Order.objects.filter(channel=channel, external_id__startswith="cn-0-", on_hold=True).count()
    report.figure(
        "orders with one-line CN addresses, batch path",
        parsed,
        "/s",
        baseline=("same orders, parts given (no parse)", plain),
        orders=n,
        held=held,
    )
    Order.objects.filter(channel=channel).delete()
