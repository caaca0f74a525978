"""What the unknown-key properties share (tests/edges/test_api_unknown_keys.py for the order intake,
tests/oms/test_api_write_keys.py for every other write endpoint): the derandomized hypothesis profile, any JSON
value to put under an extra key, and the keys an answer's errors name as unknown."""

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def profile(max_examples: int):
    """Derandomized (the same examples each run), no example database, fixtures per test function."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )


scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(st.text(max_size=5), inner, max_size=2),
    max_leaves=4,
)


def named_unknown(errors: list[dict]) -> set[str]:
    """The fields an answer's errors refuse as unknown keys."""
    return {e["field"] for e in errors if e["message"].startswith("unknown field; known: ")}
