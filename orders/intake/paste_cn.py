"""A pasted "name, phone, address" (what a buyer sends in a chat, what a platform's "copy address"
gives) split into its parts: ``split_contact(text)``. Pure functions, no database.

Shapes it reads: ``王五 13600136000 江苏省苏州市姑苏区人民路100号``, the same with commas, newlines or
full-width punctuation, address first and name last, and the labelled form ``收货人：… 电话：… 地址：…``
(所在地区 + 详细地址 too). Phones: a mobile with +86/0086/86, spaces or dashes, a landline with its
area code (``0731-88886666``, ``(021)62345678``), an extension (转 123, -1234). A number followed by
号/室/栋/楼/单元 is a house or room number, never a phone.

Phones are found with our own patterns: ``jionlp.extract_phone_number`` misses ``8613600136000``,
drops the +86 of a landline and reports one number twice (as mobile and landline).
"""

import re
import unicodedata
from dataclasses import dataclass

from .address_cn import ParsedAddress, has_han, parse_address

UNIT_AFTER = "号室栋楼幢座层单元户弄巷米"
_END = rf"(?![\d{UNIT_AFTER}])"
_PREFIX = r"(?<![\dA-Za-z])(?:(?:\+|00)?86[ -]?)?"
_EXT = r"(?:\s*(?:转|-|#|ext\.?)\s*(\d{1,6}))?"
MOBILE = re.compile(_PREFIX + r"(1[3-9]\d)[ -]?(\d{4})[ -]?(\d{4})" + _EXT + _END)
LANDLINE = re.compile(_PREFIX + r"\(?(0\d{2,3})\)?[ -]?([2-9]\d{6,7})" + _EXT + _END)
POSTCODE = re.compile(r"^\d{6}$")
LABELS = {
    "name": ("收货人姓名", "收件人姓名", "收货人", "收件人", "联系人", "姓名", "名字", "name"),
    "phone": ("手机号码", "手机号", "联系电话", "联系方式", "电话号码", "手机", "电话", "phone", "mobile", "tel"),
    "region": ("所在地区", "所在区域", "省市区", "地区"),
    "address": ("详细地址", "收货地址", "收件地址", "地址", "address"),
    "postcode": ("邮政编码", "邮编", "postcode"),
}
_LABEL_OF = {label: kind for kind, labels in LABELS.items() for label in labels}
LABEL = re.compile(
    r"(" + "|".join(sorted(map(re.escape, _LABEL_OF), key=len, reverse=True)) + r")\s*:", flags=re.IGNORECASE
)
SEGMENT_BREAK = re.compile(r"[\n,;]+")
HAN_NAME = re.compile(r"^[\u4e00-\u9fff·]{1,6}$")
LATIN_NAME = re.compile(r"^[A-Za-z][A-Za-z .'-]{0,39}$")
ADDRESS_WORDS = re.compile(r"[省市区县镇乡村路街道巷弄号楼栋室]")


@dataclass(frozen=True)
class PastedContact:
    name: str = ""
    phone: str = ""
    postcode: str = ""
    line: str = ""  # the address as found in the text, before parsing
    address: ParsedAddress = ParsedAddress()

    def fields(self) -> dict[str, str]:
        """The order's address fields this fills: the parts and the street when the address resolves,
        else the whole line as address1 (a half-understood address fills no part)."""
        a = self.address if self.address.ok else ParsedAddress(detail=self.line)
        return {
            "name": self.name,
            "phone": self.phone,
            "province": a.province,
            "city": a.city,
            "district": a.district,
            "address1": a.detail,
            "postcode": self.postcode,
        }


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text or "").replace("\u3000", " ")
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def find_phone(text: str) -> tuple[str, tuple[int, int] | None]:
    """The first mobile (else landline) number in the text, as 13600136000 / 0731-88886666 (with -ext),
    and where it stands."""
    for pattern, mobile in ((MOBILE, True), (LANDLINE, False)):
        match = pattern.search(text)
        if match:
            groups = match.groups()
            number = "".join(groups[:3]) if mobile else f"{groups[0]}-{groups[1]}"
            ext = groups[-1]
            return number + (f"-{ext}" if ext else ""), match.span()
    return "", None


def _is_name(token: str) -> bool:
    token = token.strip()
    if not token or any(ch.isdigit() for ch in token):
        return False
    if HAN_NAME.match(token):
        # 王五, 欧阳娜娜, 张先生; not 北京, 湖南省, 人民路
        return not parse_address(token).province and not (len(token) > 3 and ADDRESS_WORDS.search(token))
    return bool(LATIN_NAME.match(token)) and not has_han(token)


def _labelled(text: str) -> dict[str, str] | None:
    matches = list(LABEL.finditer(text))
    if not matches:
        return None
    values: dict[str, str] = {}
    for i, match in enumerate(matches):
        end = matches[i + 1].start() if i + 1 < len(matches) else len(text)
        kind = _LABEL_OF[match.group(1).lower()]
        value = text[match.end() : end].strip(" \n,;")
        if value and kind not in values:
            values[kind] = value
    return values


def split_contact(text: str) -> PastedContact:
    """Name, phone, postcode and the parsed address from one pasted text (see the module's docstring)."""
    text = _normalize(text)
    labelled = _labelled(text)
    if labelled is not None:
        phone, _span = find_phone(labelled.get("phone", ""))
        line = " ".join(v for v in (labelled.get("region", ""), labelled.get("address", "")) if v)
        postcode = labelled.get("postcode", "")
        return PastedContact(
            name=labelled.get("name", ""),
            phone=phone or labelled.get("phone", ""),
            postcode=postcode if POSTCODE.match(postcode) else "",
            line=line,
            address=parse_address(line) if line else ParsedAddress(),
        )
    phone, span = find_phone(text)
    if span is not None:
        text = text[: span[0]] + "\n" + text[span[1] :]
    name, postcode, address = "", "", []
    for segment in (s.strip() for s in SEGMENT_BREAK.split(text)):
        if not segment:
            continue
        if POSTCODE.match(segment):
            postcode = postcode or (segment if segment != "000000" else "")
            continue
        if not name and _is_name(segment):
            name = segment
            continue
        tokens = segment.split(" ")
        if not name and len(tokens) > 1 and _is_name(tokens[0]):
            name, segment = tokens[0], " ".join(tokens[1:])
        elif not name and len(tokens) > 1 and _is_name(tokens[-1]):
            name, segment = tokens[-1], " ".join(tokens[:-1])
        address.append(segment)
    line = " ".join(address)
    return PastedContact(
        name=name, phone=phone, postcode=postcode, line=line, address=parse_address(line) if line else ParsedAddress()
    )


def fill_empty(address: dict[str, str], text: str) -> None:
    """An address given as one text (the API's ``ship_to.full``): its name, phone, province, city,
    district, street and postcode go into the fields of ``address`` that are empty; a field the
    sender gave is left as it is. A Chinese text with no country is taken to be in China (intake then
    checks it against the division list and holds it when it does not resolve)."""
    pasted = split_contact(text)
    for name, value in pasted.fields().items():
        if value and not address.get(name):
            address[name] = value
    if not address.get("country") and has_han(text):
        address["country"] = "CN"
