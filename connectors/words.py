"""The connectors' own words stored in English (a connection's last error, an outbox row's reason): marked here,
registered as known phrases, so the channel's sync page and Background work read them in the reader's language
(``oms.wording.in_words``). A platform's own error text inside them stays as the platform wrote it."""

from django.utils.translation import gettext_noop

from oms.wording import known

WOO_SECRET = gettext_noop("Set the access token to the consumer key and secret, as ck_…:cs_… .")
SHOPIFY_NO_TOKEN = gettext_noop("No access token is set on the connection.")
SHOPIFY_ACCESS = gettext_noop("Shopify refused access: %(message)s")
DOUDIAN_SECRET = gettext_noop(
    "Set the access token to the app key, app secret and shop id, as app_key:app_secret:shop_id."
)
DOUDIAN_NO_TOKEN = gettext_noop("抖店 made no access token: check the app key, app secret and shop id.")
DOUDIAN_AUTHORISATION = gettext_noop("%(text)s Check the app key, app secret, shop id and the shop's authorisation.")
AMAZON_SECRET = gettext_noop(
    "Set the access token to the LWA client id, client secret and refresh token, as id:secret:token."
)
AMAZON_TOKEN = gettext_noop(
    "Amazon's token service refused the credentials (%(error)s: %(text)s). Check the LWA client id, client secret "
    "and refresh token."
)
AMAZON_ROLES = gettext_noop("%(text)s Check the refresh token and the app's roles in Seller Central.")
# A stock push's note (connectors/services.py ``push_stock``): parts joined by " · ".
NOT_ON_PLATFORM = gettext_noop("not on the platform: %(skus)s")
PUSH_REFUSED = gettext_noop("refused: %(errors)s")
NOTE_SEPARATOR = " · "

known(
    WOO_SECRET,
    SHOPIFY_NO_TOKEN,
    SHOPIFY_ACCESS,
    DOUDIAN_SECRET,
    DOUDIAN_NO_TOKEN,
    DOUDIAN_AUTHORISATION,
    AMAZON_SECRET,
    AMAZON_TOKEN,
    AMAZON_ROLES,
    NOT_ON_PLATFORM,
    PUSH_REFUSED,
)


def note_words(text: str) -> str:
    """A connection's stored note (its last pull, confirmation or push error) in the reader's language: each
    " · " part read through the known phrases (``in_words``); a platform's own text as it came."""
    from oms.wording import in_words

    if not text:
        return ""
    return NOTE_SEPARATOR.join(in_words(part) for part in str(text).split(NOTE_SEPARATOR))
