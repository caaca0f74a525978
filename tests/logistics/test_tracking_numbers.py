"""UPU S10 and Luhn tracking numbers. Pure: no database."""

import pytest

from logistics.tracking_numbers import (
    compact_number,
    is_valid_domestic,
    is_valid_luhn,
    is_valid_s10,
    luhn_check_digit,
    make_domestic,
    make_s10,
    s10_check_digit,
)

# --------------------------------------------------------------------------- S10


def test_s10_worked_example_from_the_standard():
    """UPU S10's worked example (as given in Wikipedia's "S10 (UPU standard)"): serial 47312482,
    S = 4*8 + 7*6 + 3*4 + 1*2 + 2*3 + 4*5 + 8*9 + 2*7 = 200, 200 mod 11 = 2, C = 11 - 2 = 9."""
    assert 4 * 8 + 7 * 6 + 3 * 4 + 1 * 2 + 2 * 3 + 4 * 5 + 8 * 9 + 2 * 7 == 200
    assert s10_check_digit("47312482") == 9
    assert make_s10("RR", 47312482, "GB") == "RR473124829GB"
    assert is_valid_s10("RR473124829GB")


@pytest.mark.parametrize(
    ("serial8", "check", "why"),
    [
        # S = 1*8 + 2*6 + 3*4 + 4*2 + 5*3 + 6*5 + 7*9 + 8*7 = 204; 204 mod 11 = 6; C = 5
        ("12345678", 5, "ordinary"),
        # S = 0; C = 11 - 0 = 11 -> 5
        ("00000000", 5, "11 becomes 5"),
        # S = 4*3 = 12; 12 mod 11 = 1; C = 10 -> 0
        ("00004000", 0, "10 becomes 0"),
        # S = 1*7 = 7; 7 mod 11 = 7; C = 4
        ("00000001", 4, "leading zeros kept"),
        # S = 9*(8+6+4+2+3+5+9+7) = 9*44 = 396 = 36*11; C = 11 -> 5
        ("99999999", 5, "largest serial"),
    ],
)
def test_s10_check_digit(serial8, check, why):
    assert s10_check_digit(serial8) == check, why


@pytest.mark.parametrize("bad", ["1234567", "123456789", "1234567a", "", "１２３４５６７８", 12345678])
def test_s10_check_digit_needs_eight_ascii_digits(bad):
    with pytest.raises(ValueError, match="8 digits"):
        s10_check_digit(bad)


@pytest.mark.parametrize(
    ("prefix", "serial", "country", "number"),
    [
        ("RR", 47312482, "GB", "RR473124829GB"),
        ("EE", 12345678, "US", "EE123456785US"),
        ("LC", 0, "CN", "LC000000005CN"),
        ("cp", 4000, "cn", "CP000040000CN"),  # letters upper-cased; check 10 -> 0
    ],
)
def test_make_s10(prefix, serial, country, number):
    assert make_s10(prefix, serial, country) == number
    assert is_valid_s10(number)


@pytest.mark.parametrize(
    ("prefix", "serial", "country"),
    [("R", 1, "GB"), ("R1", 1, "GB"), ("RR", 1, "G"), ("RR", -1, "GB"), ("RR", 100_000_000, "GB"), ("RR", "1", "GB")],
)
def test_make_s10_rejects_bad_parts(prefix, serial, country):
    with pytest.raises(ValueError):
        make_s10(prefix, serial, country)


def test_s10_round_trip_over_many_serials():
    for serial in range(0, 100_000_000, 999_983):  # a prime step walks through every check digit
        number = make_s10("LC", serial, "CN")
        assert len(number) == 13
        assert is_valid_s10(number), number
        assert number[2:10] == f"{serial:08d}"


def test_s10_every_wrong_check_digit_is_refused():
    for digit in "0123456789":
        number = f"RR47312482{digit}GB"
        assert is_valid_s10(number) is (digit == "9")


@pytest.mark.parametrize(
    "number",
    ["rr473124829gb", " RR473124829GB ", "RR 473 124 829 GB"],
)
def test_s10_validation_ignores_case_and_spaces(number):
    assert is_valid_s10(number)


@pytest.mark.parametrize(
    "number",
    [
        "RR473124828GB",  # wrong check digit
        "RR47312482GB",  # serial too short
        "RR4731248299GB",  # too long
        "R1473124829GB",
        "RR473124829G",
        "12473124829GB",
        "",
        None,
        473124829,
        "ＲＲ473124829GB",  # full-width letters
    ],
)
def test_s10_invalid(number):
    assert is_valid_s10(number) is False


def test_compact_number():
    assert compact_number(" rr 473 124\t829 gb\n") == "RR473124829GB"
    assert compact_number(None) is None


# --------------------------------------------------------------------------- Luhn / domestic


def test_luhn_worked_example():
    """The usual worked example (Wikipedia "Luhn algorithm"): 7992739871 -> check digit 3."""
    assert luhn_check_digit("7992739871") == 3
    assert is_valid_luhn("79927398713")
    assert not is_valid_luhn("79927398710")


@pytest.mark.parametrize(
    ("digits", "check"),
    [
        ("411111111111111", 1),  # the Visa test card 4111 1111 1111 1111
        ("0", 0),
        ("1", 8),  # 1*2 = 2 -> 10 - 2 = 8
        ("5", 9),  # 5*2 = 10 -> 1 -> 9
        ("00000000000", 0),
    ],
)
def test_luhn_check_digit(digits, check):
    assert luhn_check_digit(digits) == check


@pytest.mark.parametrize("bad", ["", "12a", "１２", 123])
def test_luhn_check_digit_needs_ascii_digits(bad):
    with pytest.raises(ValueError):
        luhn_check_digit(bad)


def test_luhn_catches_every_single_digit_error():
    number = "79927398713"
    for i in range(len(number)):
        for d in "0123456789":
            if d != number[i]:
                assert not is_valid_luhn(number[:i] + d + number[i + 1 :])


def test_domestic_numbers():
    assert make_domestic(7992739871) == "079927398713"
    assert make_domestic(0) == "000000000000"
    assert is_valid_domestic("079927398713")
    assert is_valid_domestic("0799 2739 8713")
    assert not is_valid_domestic("79927398713")  # 11 digits
    assert not is_valid_domestic("079927398714")
    assert not is_valid_domestic("RR473124829G")
    assert not is_valid_domestic(None)
    for serial in (1, 12_345_678_901, 99_999_999_999):
        number = make_domestic(serial)
        assert len(number) == 12 and is_valid_domestic(number)


@pytest.mark.parametrize("bad", [-1, 100_000_000_000, True, "1"])
def test_make_domestic_rejects_bad_serials(bad):
    with pytest.raises(ValueError):
        make_domestic(bad)
