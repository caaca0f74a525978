"""Reference data of the demo world, upserted: users, locations, products, opening stock,
carriers with their services, and sales channels. Running it twice changes nothing more."""

import random
import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from inventory.models import Bin, Location, Product, StockMovement, StockReceipt
from inventory.services import stock_receive
from logistics.models import Carrier, ServiceLevel
from oms.roles import sync_roles
from orders.models import Channel

from . import data

AISLES = {"standard": "A", "fragile": "B", "fresh": "C", "bulky": "D"}
# (handling class, location code) -> opening stock range; a pair not listed gets none.
OPENING_STOCK = {
    ("standard", "SH-QP"): (150, 300),
    ("standard", "GZ-BY"): (100, 220),
    ("standard", "BJ-SLT"): (20, 45),
    ("fragile", "SH-QP"): (60, 120),
    ("fragile", "GZ-BY"): (40, 90),
    ("fragile", "BJ-SLT"): (10, 25),
    ("fresh", "SH-QP"): (80, 160),
    ("bulky", "GZ-BY"): (15, 30),
}


@dataclass
class World:
    users: dict = field(default_factory=dict)
    locations: dict[str, Location] = field(default_factory=dict)
    products: dict[str, Product] = field(default_factory=dict)
    channels: list[Channel] = field(default_factory=list)


def ensure_world(*, seed: int, started: datetime) -> World:
    sync_roles()  # the role groups exist after migrate; this makes sure (idempotent)
    world = World()
    world.users = _users()
    world.locations = _locations()
    world.products = _products()
    _bins(world)
    _opening_stock(world, seed=seed, started=started)
    _carriers()
    world.channels = _channels()
    return world


def _users() -> dict:
    model = get_user_model()
    users = {}
    for username, role, superuser, first, last in data.USERS:
        user, _ = model.objects.get_or_create(username=username)
        user.first_name, user.last_name = first, last
        user.email = f"{username}@oms.example.com"
        user.is_active = True
        user.is_staff = superuser
        user.is_superuser = superuser
        user.set_password(username)  # demo only: the password is the username
        user.save()
        user.groups.set([Group.objects.get(name=role)])
        users[username] = user
    return users


def _locations() -> dict[str, Location]:
    fields = {f.name for f in Location._meta.get_fields()}
    locations = {}
    for row in data.LOCATIONS:
        defaults = {k: v for k, v in row.items() if k in fields and k != "code"}
        defaults.update(country="CN", active=True)
        locations[row["code"]] = Location.objects.update_or_create(code=row["code"], defaults=defaults)[0]
    return locations


def _products() -> dict[str, Product]:
    products = {}
    for i, (sku, name, handling, weight, (length, width, height), price) in enumerate(data.PRODUCTS):
        products[sku] = Product.objects.update_or_create(
            sku=sku,
            defaults={
                "name": name,
                "handling_class": handling,
                "weight_g": weight,
                "length_mm": length,
                "width_mm": width,
                "height_mm": height,
                "price": data.money(price),
                "barcode": data.ean13(f"6920{315000 + i * 37:08d}"),
                "active": True,
            },
        )[0]
    return products


def _bin_code(i: int, product: Product) -> str:
    return f"{AISLES[product.handling_class]}-{i % 12 + 1:02d}-{i % 4 + 1:02d}"


def _bins(world: World) -> None:
    """Every location's bins (zone = aisle), in pick order, before stock is received into them."""
    codes = sorted({_bin_code(i, world.products[sku]) for i, (sku, *_rest) in enumerate(data.PRODUCTS)})
    for location in world.locations.values():
        for sequence, code in enumerate(codes, start=1):
            Bin.objects.get_or_create(
                location=location, code=code, defaults={"zone": code.split("-")[0], "pick_sequence": sequence * 10}
            )


def _opening_stock(world: World, *, seed: int, started: datetime) -> None:
    """Opening stock by receipt (stock_receive, so the ledger has it), where a location has none yet."""
    rng = random.Random(seed + 1)
    received_at = started - timedelta(days=35)
    have = set(StockMovement.objects.values_list("location_id", "product_id").distinct())
    for i, (sku, *_rest) in enumerate(data.PRODUCTS):
        product = world.products[sku]
        for code, location in world.locations.items():
            if sku == data.SCARCE_SKU:
                quantity = data.SCARCE_STOCK.get(code, 0)
            else:
                low_high = OPENING_STOCK.get((product.handling_class, code))
                quantity = rng.randint(*low_high) if low_high else 0
            if not quantity or (location.pk, product.pk) in have:
                continue
            stock_receive(
                location=location,
                product=product,
                quantity=quantity,
                reason="Opening stock 期初库存",
                reference=f"PO-DEMO-{i + 1:04d}",
                bin=_bin_code(i, product),
                user=world.users["warehouse"],
            )
            # Demo only: date the receipt before the first order (see demo/seed.py).
            StockMovement.objects.filter(location=location, product=product, created_at__gte=started).update(
                created_at=received_at
            )
            StockReceipt.objects.filter(location=location, product=product, created_at__gte=started).update(
                created_at=received_at
            )


def _carriers() -> None:
    carrier_fields = {f.name for f in Carrier._meta.get_fields()}
    service_fields = {f.name for f in ServiceLevel._meta.get_fields()}
    money = {"base_rate", "per_kg_rate", "remote_surcharge", "fuel_surcharge_pct"}
    for code, name, url, extra, services in data.CARRIERS:
        defaults = {"name": name, "adapter": "local", "tracking_url_template": url, "active": True, **extra}
        carrier = Carrier.objects.update_or_create(
            code=code, defaults={k: v for k, v in defaults.items() if k in carrier_fields}
        )[0]
        for service in services:
            defaults = {k: data.money(v) if k in money else v for k, v in service.items() if k != "code"}
            defaults["active"] = True
            ServiceLevel.objects.update_or_create(
                carrier=carrier,
                code=service["code"],
                defaults={k: v for k, v in defaults.items() if k in service_fields},
            )


def _channels() -> list[Channel]:
    channels = []
    for slug, name, kind, priority, _style in data.CHANNELS:
        channel = Channel.objects.update_or_create(
            slug=slug, defaults={"name": name, "kind": kind, "default_priority": priority, "active": True}
        )[0]
        if not channel.webhook_secret:
            channel.webhook_secret = secrets.token_hex(24)  # a real secret, not from the seeded generator
            channel.save(update_fields=["webhook_secret"])
        channels.append(channel)
    return channels
